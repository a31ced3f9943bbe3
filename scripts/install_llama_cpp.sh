#!/usr/bin/env bash
# Install llama-cpp-python built for this CPU's vector units; run by `make setup` before
# requirements.lock, which then finds the pinned version already installed.
#
# Why: on CPUs with AVX-512 (VNNI, VBMI, BF16) llama.cpp evaluates the prompt about 1.4x
# faster than the portable AVX2 build (99 vs 70 tokens/s on a 604-token prompt, stop 15,
# docs/BENCHMARKS.md), and prompt evaluation is most of the time to the first token.
# pip's wheel cache is keyed by the source archive, not by CMAKE_ARGS, so an AVX-512 wheel
# left there would be handed to any later install and crash on a CPU without AVX-512. The
# AVX-512 wheel therefore lives in its own folder and is used only where /proc/cpuinfo lists
# every flag it was built for; other CPUs get the portable build (GGML_NATIVE=OFF, AVX2)
# from requirements.lock as before. AMX stays off: a native build with AMX crashed here.
set -euo pipefail
pip="$1"
version="$2"
wheels="${PMRAG_WHEELS_DIR:-$HOME/.cache/pmrag/wheels}/llama-cpp-python-$version-avx512"
for flag in avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi avx512_vnni avx512_bf16 avx_vnni; do
  if ! grep -qw "$flag" /proc/cpuinfo 2>/dev/null; then
    echo "llama-cpp-python: portable AVX2 build (this CPU has no $flag)"
    exit 0
  fi
done
if ! compgen -G "$wheels/llama_cpp_python-$version-*.whl" >/dev/null; then
  echo "building llama-cpp-python $version for this CPU's AVX-512 (about 4 min on 2 cores, once)"
  rm -rf "$wheels.partial"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON" \
    "$pip" wheel --quiet --no-deps --no-cache-dir -w "$wheels.partial" "llama-cpp-python==$version"
  mv "$wheels.partial" "$wheels"  # a half-built folder is never picked up
fi
"$pip" install --quiet --no-deps --force-reinstall "$wheels"/llama_cpp_python-"$version"-*.whl
