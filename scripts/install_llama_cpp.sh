#!/usr/bin/env bash
# Install llama-cpp-python built for this CPU's vector units; run by `make setup` before
# requirements.lock, which then finds the pinned version already installed.
#
# Why: on CPUs with AVX-512 llama.cpp evaluates the prompt 1.45-1.55x faster than the
# portable AVX2 build (108 vs 70 tokens/s on a 604-token prompt on an Intel Xeon, 107 vs 73 on
# an AMD EPYC; benchmarks/prompt_eval.py), and prompt evaluation is most of the time to the
# first token. The base AVX-512 build needs F, CD, VL, DQ and BW; VBMI, VNNI, BF16 and
# AVX-VNNI are switched on where the CPU lists them (AMD's AVX-512 parts have no AVX-VNNI).
# pip's wheel cache is keyed by the source archive, not by CMAKE_ARGS, so an AVX-512 wheel
# left there would be handed to any later install and crash on a CPU without AVX-512. Each
# AVX-512 wheel therefore lives in a folder named after the features it was built for, used
# only where /proc/cpuinfo lists them all; other CPUs get the portable build
# (GGML_NATIVE=OFF, AVX2) from requirements.lock. AMX stays off: a native build with AMX crashed.
set -euo pipefail
pip="$1"
version="$2"
has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
for flag in avx512f avx512cd avx512vl avx512dq avx512bw; do
  if ! has "$flag"; then
    echo "llama-cpp-python: portable AVX2 build (this CPU has no $flag)"
    exit 0
  fi
done
args="-DGGML_NATIVE=OFF -DGGML_AVX512=ON"
name="avx512"
for pair in avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16 avx_vnni:AVX_VNNI; do
  if has "${pair%%:*}"; then
    args="$args -DGGML_${pair#*:}=ON"
    name="$name-$(echo "${pair#*:}" | tr 'A-Z_' 'a-z-' | sed 's/^avx512-//')"
  fi
done
wheels="${PMRAG_WHEELS_DIR:-$HOME/.cache/pmrag/wheels}/llama-cpp-python-$version-$name"
if ! compgen -G "$wheels/llama_cpp_python-$version-*.whl" >/dev/null; then
  echo "building llama-cpp-python $version for this CPU ($name; about 4 min on 2 cores, once)"
  rm -rf "$wheels.partial"
  CMAKE_ARGS="$args" "$pip" wheel --quiet --no-deps --no-cache-dir -w "$wheels.partial" "llama-cpp-python==$version"
  mv "$wheels.partial" "$wheels"  # a half-built folder is never picked up
fi
"$pip" install --quiet --no-deps --force-reinstall "$wheels"/llama_cpp_python-"$version"-*.whl
