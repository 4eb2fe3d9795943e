#!/usr/bin/env python3
"""Checks ONNX files that `canopy export` wrote against what Canopy itself predicted.

For each manifest (a JSON file the Swift test writes next to the model) this script
  1. runs onnx.checker.check_model(full_check=True) (which also infers and checks every shape),
  2. checks that the input and every output have the dynamic batch dimension 'batch',
  3. runs the model in onnxruntime (CPU) on the manifest's rows, in batches of the given sizes, and
  4. compares every output with Canopy's values: |onnx - canopy| <= tolerance * max(1, |canopy|).
Needs `pip install onnx onnxruntime numpy` (not Canopy dependencies; the Swift test skips when they are missing).

Usage: python3 Scripts/check_onnx.py MANIFEST.json [MANIFEST.json ...]
Manifest: {"model": "m.onnx", "input": {"file": "x.bin", "dtype": "float32" | "int64", "shape": [rows, ...]},
           "outputs": {"NAME": {"file": "NAME.bin", "shape": [rows, width]}, ...},
           "batches": [rows per run, ...], "tolerance": 1e-5}
(.bin files hold little-endian values, row-major). Prints per manifest and output:
  model<TAB>output<TAB>largest difference (%.3g)
and a line `FAIL: ...` for each failed check; exits 1 if any check failed.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime


def load(directory, entry, dtype):
    values = np.fromfile(os.path.join(directory, entry["file"]), dtype=np.dtype(dtype).newbyteorder("<"))
    return values.reshape(entry["shape"])


def check(manifest_path):
    failures = []
    directory = os.path.dirname(os.path.abspath(manifest_path))
    with open(manifest_path) as f:
        manifest = json.load(f)
    model_path = os.path.join(directory, manifest["model"])
    name = os.path.basename(model_path)
    onnx.checker.check_model(model_path, full_check=True)
    model = onnx.load(model_path)
    for value in list(model.graph.input) + list(model.graph.output):
        first = value.type.tensor_type.shape.dim[0]
        if first.dim_param != "batch":
            failures.append(f"{name}: {value.name}'s first dimension is not the dynamic 'batch'")
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if [i.name for i in inputs] != ["input"]:
        failures.append(f"{name}: inputs {[i.name for i in inputs]}, expected ['input']")
    x = load(directory, manifest["input"], manifest["input"]["dtype"])
    expected = {key: load(directory, entry, "float32") for key, entry in manifest["outputs"].items()}
    names = [o.name for o in session.get_outputs()]
    if sorted(names) != sorted(expected):
        failures.append(f"{name}: outputs {names}, expected {sorted(expected)}")
        return failures
    tolerance = manifest.get("tolerance", 1e-5)
    for batch in manifest.get("batches", [len(x)]):
        pieces = {key: [] for key in names}
        for start in range(0, len(x), batch):
            for key, value in zip(names, session.run(names, {"input": x[start:start + batch]})):
                pieces[key].append(value)
        for key in names:
            got = np.concatenate(pieces[key])
            want = expected[key]
            if got.shape != want.shape:
                failures.append(f"{name}: {key} has shape {got.shape}, Canopy's {want.shape}")
                continue
            difference = np.abs(got.astype(np.float64) - want)
            allowed = tolerance * np.maximum(1, np.abs(want.astype(np.float64)))
            print(f"{name}\t{key}\t{difference.max() if difference.size else 0:.3g}\t(batch {batch})")
            if not np.all(difference <= allowed):
                worst = np.unravel_index(np.argmax(difference - allowed), difference.shape)
                failures.append(f"{name}: {key} (batch {batch}) differs at {tuple(int(i) for i in worst)}: "
                                f"onnxruntime {got[worst]!r}, Canopy {want[worst]!r}")
    return failures


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    failures = []
    for path in sys.argv[1:]:
        try:
            failures += check(path)
        except Exception as error:  # a checker or runtime error is a failure of that model, reported by name
            failures.append(f"{path}: {type(error).__name__}: {error}")
    for failure in failures:
        print("FAIL: " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
