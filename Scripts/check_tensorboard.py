#!/usr/bin/env python3
"""Reads a TensorBoard folder written by `canopy train --tensorboard DIR` with TensorBoard's own reader
(EventAccumulator) and compares it with the run's metrics.jsonl: every tag, step (the epoch) and value.

    check_tensorboard.py TENSORBOARD_DIR RUN_DIR/metrics.jsonl

Tags expected for each train/validation/test line of a task: <task>/<split>/loss and <task>/<split>/<metric>; for
train lines also <task>/weight, learning_rate and epoch_seconds; for gradient-cosine lines
gradient_cosine/<a>~<b>; and a parameters/<name> histogram per epoch. Values are float32 in the event file, so
they are compared with a relative tolerance of 1e-6 (NaN matches a JSON null). Prints one line per problem and
exits 1 when there is any, else prints a summary and exits 0.
"""
import json
import math
import sys

from tensorboard.backend.event_processing import event_accumulator

BOOKKEEPING = {"epoch", "split", "task", "step", "weight", "learning_rate", "epoch_seconds", "labelled_rows"}


def expected_scalars(log_path):
    """{tag: {step: value}} from metrics.jsonl (later lines for the same tag and step replace earlier ones)."""
    expected = {}
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            if not line.strip():
                continue
            record = json.loads(line)
            epoch = record["epoch"]
            values = {}
            if "pair" in record:
                values["gradient_cosine/" + record["pair"]] = record["gradient_cosine"]
            elif record["split"] in ("train", "validation", "test"):
                task, split = record["task"], record["split"]
                for key, value in record.items():
                    if key not in BOOKKEEPING:
                        values[f"{task}/{split}/{key}"] = value
                if split == "train":
                    values[f"{task}/weight"] = record.get("weight")
                    values["learning_rate"] = record.get("learning_rate")
                    if "epoch_seconds" in record:
                        values["epoch_seconds"] = record["epoch_seconds"]
            for tag, value in values.items():
                if value is not None or tag not in expected or epoch not in expected[tag]:
                    expected.setdefault(tag, {})[epoch] = value
    return expected


def same(a, b):
    if b is None:
        return math.isnan(a)
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    accumulator = event_accumulator.EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    expected = expected_scalars(sys.argv[2])
    problems = []
    for tag in sorted(set(expected) - set(tags["scalars"])):
        problems.append(f"missing scalar tag {tag}")
    for tag in sorted(set(tags["scalars"]) - set(expected)):
        problems.append(f"unexpected scalar tag {tag}")
    compared = 0
    for tag in sorted(set(expected) & set(tags["scalars"])):
        events = {event.step: event.value for event in accumulator.Scalars(tag)}
        for step, value in sorted(expected[tag].items()):
            if step not in events:
                problems.append(f"{tag}: no value at step {step}")
            elif not same(events[step], value):
                problems.append(f"{tag} step {step}: event file {events[step]!r}, metrics.jsonl {value!r}")
            compared += 1
        for step in sorted(set(events) - set(expected[tag])):
            problems.append(f"{tag}: unexpected step {step}")
    epochs = sorted({step for steps in expected.values() for step in steps})
    histograms = [tag for tag in tags["histograms"] if tag.startswith("parameters/")]
    if not histograms:
        problems.append("no parameters/ histograms")
    for tag in histograms:
        steps = [event.step for event in accumulator.Histograms(tag)]
        if sorted(steps) != epochs:
            problems.append(f"{tag}: histogram steps {steps}")
        for event in accumulator.Histograms(tag):
            if event.histogram_value.num <= 0 or sum(event.histogram_value.bucket) != event.histogram_value.num:
                problems.append(f"{tag} step {event.step}: bucket counts do not add up to num")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"ok: {len(expected)} scalar tags, {compared} values and {len(histograms)} histogram tags match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
