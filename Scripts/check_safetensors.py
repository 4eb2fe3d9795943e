#!/usr/bin/env python3
"""Loads a Canopy checkpoint with the reference `safetensors` package and prints what it holds.

Shows that files written by Canopy's SafeTensorsFile are readable by the PyTorch/JAX/MLX ecosystem.
Needs `pip install safetensors numpy` (not a Canopy dependency; the Swift test that runs this script skips
when the package is missing).

Usage: python3 Scripts/check_safetensors.py FILE.safetensors
       python3 Scripts/check_safetensors.py --write OUT.safetensors   (writes a small file for Canopy to read:
       "b" = [[0, 1, 2], [3, 4, 5]] and "a" = [1.5], float32, metadata {"from": "python"})
Prints one line per tensor, by name:  name<TAB>dtype<TAB>shape as 2x3<TAB>sum of values (%.6g)
then one line per metadata key:             __metadata__<TAB>key<TAB>value
"""
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def main(path):
    with safe_open(path, framework="np") as f:
        for name in sorted(f.keys()):
            array = f.get_tensor(name)
            shape = "x".join(str(d) for d in array.shape) or "scalar"
            print(f"{name}\t{array.dtype}\t{shape}\t{float(np.sum(array, dtype=np.float64)):.6g}")
        for key, value in sorted((f.metadata() or {}).items()):
            print(f"__metadata__\t{key}\t{value}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        tensors = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.array([1.5], dtype=np.float32)}
        save_file(tensors, sys.argv[2], metadata={"from": "python"})
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit(__doc__)
