#!/usr/bin/env bash
# Installs CLBlast (Debian: libclblast-dev), the tuned OpenCL BLAS the kernel benchmarks compare Canopy's OpenCL
# matrix products with. The benchmarks load it at run time (dlopen), so the suite builds and runs without it.
# Idempotent: an installed libclblast is left alone. Uses apt-get as root, or through sudo (non-interactively)
# otherwise. Exits non-zero and says why when it cannot; the suite then prints "CLBlast skipped: …".
#   bash Benchmarks/setup-clblast.sh
set -u
have() { ldconfig -p 2>/dev/null | grep -q 'libclblast\.so' || ls /usr/lib/*/libclblast.so* >/dev/null 2>&1; }
if have; then echo "CLBlast ready: $(ls /usr/lib/*/libclblast.so* 2>/dev/null | head -1)"; exit 0; fi
command -v apt-get >/dev/null || { echo "setup-clblast.sh: no apt-get (install CLBlast by hand)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null; then as_root=(sudo -n); else
    echo "setup-clblast.sh: not root and no sudo" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y -q libclblast-dev >/dev/null 2>&1 \
    || { "${as_root[@]}" apt-get update -q >/dev/null 2>&1 && "${as_root[@]}" apt-get install -y -q libclblast-dev >/dev/null 2>&1; } \
    || { echo "setup-clblast.sh: apt-get install libclblast-dev failed (no network, or not in this distribution)" >&2; exit 1; }
have || { echo "setup-clblast.sh: libclblast-dev installed but libclblast.so not found" >&2; exit 1; }
echo "CLBlast ready: $(ls /usr/lib/*/libclblast.so* 2>/dev/null | head -1)"
