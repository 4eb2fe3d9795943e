"""What the PyTorch and JAX benchmarks share: the workloads' tasks, loading the data and Canopy's initial
parameters, and the timing protocol, which mirrors the Swift suite's (WorkloadSuite.measureCanopy):

- cold first step: building the model state from the parameters plus the first training step on batch 0 (whose
  per-task losses, before any update, are the step-0 losses Canopy checks against its own);
- `--warmup` steps and at least `--warmup-seconds` of steps, then `--reps` repetitions of `--steps` steps, each starting at batch 1 and cycling over the
  batches in file order; the median repetition gives samples/s.

One JSON line on stdout carries the result (the keys of EngineResult in Peers.swift)."""
import argparse
import json
import os
import resource
import time

import numpy as np
from safetensors.numpy import load_file

# Each workload's tasks in model-file order: (label name, class count or None for regression).
TASKS = {
    "w1": [("a", 10), ("b", 5)],
    "w2": [("a", 10), ("b", 2)],
    "w3": [("y1", None), ("y2", None)],
}
INPUT_SHAPES = {"w1": (784,), "w2": (1, 28, 28), "w3": (100,)}
LEARNING_RATE = 1e-3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workload", required=True, choices=sorted(TASKS))
    parser.add_argument("--data", required=True, help="folder with x.npy and one <label>.npy per task")
    parser.add_argument("--params", required=True, help="Canopy's initial parameters (safetensors)")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="keep warming up at least this long")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    return parser.parse_args()


def load(args):
    """The batches (features, [labels per task]) in file order, and the parameters by Canopy name."""
    x = np.load(os.path.join(args.data, "x.npy")).astype(np.float32)
    x = x.reshape((x.shape[0],) + INPUT_SHAPES[args.workload])
    labels = [np.load(os.path.join(args.data, name + ".npy")).reshape(-1) for name, _ in TASKS[args.workload]]
    count = x.shape[0] // args.batch
    batches = []
    for i in range(count):
        rows = slice(i * args.batch, (i + 1) * args.batch)
        ys = [y[rows].astype(np.int64) if classes else y[rows].astype(np.float32)
              for y, (_, classes) in zip(labels, TASKS[args.workload])]
        batches.append((x[rows], ys))
    return batches, load_file(args.params)


def measure(engine, version, args, build, step, sync):
    """Times an engine: `build()` makes its state, `step(state, batch_index, want_losses)` runs one training step
    and returns (state, per-task losses or None), `sync(state)` waits for queued work."""
    batches, params = load(args)
    count = len(batches)
    started = time.perf_counter()
    state = build(params, batches)
    state, losses = step(state, 0, True)
    sync(state)
    first = time.perf_counter() - started
    warm_start, k = time.perf_counter(), 0
    while k < args.warmup or time.perf_counter() - warm_start < args.warmup_seconds:
        state, _ = step(state, (1 + k) % count, False)
        k += 1
        if k % 10 == 0:
            sync(state)
    sync(state)
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for k in range(args.steps):
            state, _ = step(state, (1 + k) % count, False)
        sync(state)
        times.append((time.perf_counter() - start) / args.steps)
    median = sorted(times)[len(times) // 2]
    print(json.dumps({
        "engine": engine, "workload": args.workload, "version": version, "losses": [float(v) for v in losses],
        "first_step_s": first, "reps_s": times, "samples_per_s": args.batch / median, "threads": args.threads,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }), flush=True)
