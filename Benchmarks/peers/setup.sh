#!/usr/bin/env bash
# Creates Benchmarks/.venv with the peers the training benchmark compares Canopy with: PyTorch (the CPU wheel when
# its index is reachable, else PyPI's wheel), JAX on the CPU, NumPy and safetensors. Idempotent: a venv that
# already imports all four is left alone. Exits non-zero (and says why) when it cannot; the suite then skips peers.
#   bash Benchmarks/peers/setup.sh
set -u
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
check='import torch, jax, numpy, safetensors; print("peers ready: torch", torch.__version__, "jax", jax.__version__)'

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then exit 0; fi
command -v "$python" >/dev/null || { echo "setup.sh: no $python on PATH" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv" || { echo "setup.sh: could not create $venv" >&2; exit 1; }
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --quiet)
"${pip[@]}" --upgrade pip >/dev/null 2>&1 || true
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    # The CPU-only wheel is small; PyPI's default Linux wheel also pulls CUDA libraries (large) but runs on the CPU.
    "${pip[@]}" --timeout 30 torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
        || "${pip[@]}" torch \
        || { echo "setup.sh: could not install torch (no network?)" >&2; exit 1; }
fi
"${pip[@]}" "jax[cpu]" numpy safetensors || { echo "setup.sh: could not install jax[cpu], numpy, safetensors" >&2; exit 1; }
"$venv/bin/python" -c "$check" || { echo "setup.sh: the venv does not import torch, jax, numpy and safetensors" >&2; exit 1; }
