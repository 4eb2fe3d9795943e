#!/usr/bin/env python3
"""Multi-task experiments behind the numbers in Canopy's issue notes, reproducible with the release binary.

1. builtin:synthetic-mmoe (Ma et al., 2018) at task correlations 0.5 and 1.0: the final training loss and
   validation loss (sum over the two tasks) of shared-bottom, OMoE and MMoE over several seeds, mean ± std.
2. builtin:multidigits: hard sharing under several task-weighting methods against single-task baselines (Δm).

Usage: Scripts/mtl_experiments.py [--seeds 3] [--backend cpu] [--part synthetic|multidigits|all]
Builds nothing itself: run `swift build -c release --product canopy` first (Scripts/canopy does).
"""
import argparse, json, pathlib, re, statistics, subprocess, sys, tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CANOPY = ROOT / ".build" / "release" / "canopy"
EXAMPLES = ROOT / "Examples"


def variant(example, replacements, directory, name):
    """A copy of an example model file with some lines' values replaced (regex → replacement)."""
    text = (EXAMPLES / example).read_text()
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.M)
        if count == 0:
            sys.exit(f"{example}: pattern {pattern!r} not found")
    path = pathlib.Path(directory) / name
    path.write_text(text)
    return path


def train(model, out, backend, seed, extra=()):
    """Runs canopy train and returns (last epoch's lines from metrics.jsonl, stdout)."""
    result = subprocess.run([str(CANOPY), "train", str(model), "--backend", backend, "--seed", str(seed),
                             "--out", str(out), *extra], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"canopy train {model} failed:\n{result.stderr}")
    lines = [json.loads(line) for line in (pathlib.Path(out) / "metrics.jsonl").read_text().splitlines()]
    last = max(line["epoch"] for line in lines)
    return [line for line in lines if line["epoch"] == last and "task" in line], result.stdout


def mean_std(values):
    return (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


def synthetic(args, directory):
    print("## synthetic-mmoe: final train loss and validation loss (y1 + y2), mean ± std over seeds", args.seeds)
    print(f"{'correlation':>11}  {'model':<13} {'train loss':>17} {'validation loss':>17}")
    for correlation in ("0.5", "1.0"):
        for model, example in (("shared-bottom", "shared-bottom-synthetic.yaml"), ("OMoE", "omoe-synthetic.yaml"),
                               ("MMoE", "mmoe-synthetic.yaml")):
            path = variant(example, [(r"correlation: [0-9.]+", f"correlation: {correlation}")], directory,
                           f"{model}-{correlation}.yaml")
            train_losses, validation_losses = [], []
            for seed in range(1, args.seeds + 1):
                lines, _ = train(path, pathlib.Path(directory) / f"run-{model}-{correlation}-{seed}", args.backend, seed)
                train_losses.append(sum(l["loss"] for l in lines if l["split"] == "train"))
                validation_losses.append(sum(l["loss"] for l in lines if l["split"] == "validation"))
            (tm, ts), (vm, vs) = mean_std(train_losses), mean_std(validation_losses)
            print(f"{correlation:>11}  {model:<13} {tm:8.4f} ± {ts:6.4f} {vm:8.4f} ± {vs:6.4f}", flush=True)


def multidigits(args, directory):
    print("## multidigits: hard sharing, validation accuracy (left, right) and Δm against single-task baselines")
    methods = ["fixed", "uncertainty", "{dwa: {temperature: 2.0}}", "{gradnorm: {alpha: 1.5}}", "pcgrad", "mgda"]
    baselines = None
    for method in methods:
        path = variant("multidigits-pcgrad.yaml", [(r"^  weighting: .*$", f"  weighting: {method}")], directory,
                       "multidigits.yaml")
        extra = ("--baselines",) if baselines is None else ()
        lines, stdout = train(path, pathlib.Path(directory) / f"run-{len(method)}-{method[:5]}", args.backend, 1, extra)
        validation = {l["task"]: l for l in lines if l["split"] == "validation"}
        if baselines is None:
            baselines = {}
            for match in re.finditer(r"^(\w+) (accuracy|macro_f1)\s+([0-9.]+)\s+([0-9.]+)$", stdout, re.M):
                baselines[(match[1], match[2])] = float(match[4])
            print("single-task baselines: " + ", ".join(f"{t} {m} {v:.4f}" for (t, m), v in sorted(baselines.items())))
        delta = statistics.mean(
            statistics.mean((validation[t][m] - baselines[(t, m)]) / baselines[(t, m)] * 100 for m in ("accuracy", "macro_f1"))
            for t in ("left", "right"))
        print(f"{method:<28} left {validation['left']['accuracy']:.4f}  right {validation['right']['accuracy']:.4f}"
              f"  Δm {delta:+.2f}%", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--backend", default="cpu")
    parser.add_argument("--part", default="all", choices=["synthetic", "multidigits", "all"])
    args = parser.parse_args()
    if not CANOPY.exists():
        sys.exit(f"{CANOPY} is missing: run `swift build -c release --product canopy` first")
    with tempfile.TemporaryDirectory() as directory:
        if args.part in ("synthetic", "all"):
            synthetic(args, directory)
        if args.part in ("multidigits", "all"):
            multidigits(args, directory)


if __name__ == "__main__":
    main()
