#!/usr/bin/env bash
# whisper.cpp 1.8.5 sources for vendor/whisper-rs-sys (crates.io whisper-rs-sys 0.15.0 ships 1.8.3).
# 1.8.5's CPU flash attention transcribes ~1.3x faster; scripts/bench-listening measures it. The sources come
# from the PyPI sdist of pywhispercpp 1.5.1 (it bundles whisper.cpp 1.8.5), checked against its sha256.
# Idempotent and cached; the README's commands and .ci/run call it before any cargo command.
set -euo pipefail
cd "$(dirname "$0")/.."
url="https://files.pythonhosted.org/packages/9f/35/610787a277e177e6b7983277a35a2969c0876b46c0d889bc6a0c4b4ac4a7/pywhispercpp-1.5.1.tar.gz"
sha="5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5"
dest=vendor/whisper-rs-sys/whisper.cpp
stamp="$dest/.source-sha256"
[[ -f $stamp && $(cat "$stamp") == "$sha" ]] && exit 0

cache="${XDG_CACHE_HOME:-$HOME/.cache}/dataready/src"
mkdir -p "$cache"
sdist="$cache/pywhispercpp-1.5.1.tar.gz"
if [[ ! -f $sdist ]] || ! echo "$sha  $sdist" | sha256sum -c --quiet 2>/dev/null; then
  echo "fetching whisper.cpp 1.8.5 sources (pywhispercpp 1.5.1 sdist from PyPI, 9.8 MB)" >&2
  python3 - "$url" "$sdist.partial" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=120) as r, open(sys.argv[2], "wb") as f:
    while chunk := r.read(1 << 20):
        f.write(chunk)
PY
  echo "$sha  $sdist.partial" | sha256sum -c --quiet || { rm -f "$sdist.partial"; echo "sha256 mismatch for $url" >&2; exit 1; }
  mv "$sdist.partial" "$sdist"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Only what the CPU build reads: no examples, models, bindings or GPU backends.
tar -xzf "$sdist" -C "$tmp" \
  --exclude='*/ggml/src/ggml-cuda' --exclude='*/ggml/src/ggml-vulkan' --exclude='*/ggml/src/ggml-sycl' \
  --exclude='*/ggml/src/ggml-opencl' --exclude='*/ggml/src/ggml-hexagon' --exclude='*/ggml/src/ggml-webgpu' \
  --exclude='*/ggml/src/ggml-metal' --exclude='*/ggml/src/ggml-cann' --exclude='*/ggml/src/ggml-musa' \
  --exclude='*/ggml/src/ggml-hip' --exclude='*/ggml/src/ggml-zdnn' \
  pywhispercpp-1.5.1/whisper.cpp/CMakeLists.txt pywhispercpp-1.5.1/whisper.cpp/LICENSE \
  pywhispercpp-1.5.1/whisper.cpp/cmake pywhispercpp-1.5.1/whisper.cpp/src pywhispercpp-1.5.1/whisper.cpp/include \
  pywhispercpp-1.5.1/whisper.cpp/ggml pywhispercpp-1.5.1/whisper.cpp/bindings/CMakeLists.txt \
  pywhispercpp-1.5.1/whisper.cpp/bindings/javascript/package-tmpl.json
grep -q 'project("whisper.cpp" VERSION 1.8.5)' "$tmp/pywhispercpp-1.5.1/whisper.cpp/CMakeLists.txt" \
  || { echo "unexpected whisper.cpp version in the sdist" >&2; exit 1; }
rm -rf "$dest"
mv "$tmp/pywhispercpp-1.5.1/whisper.cpp" "$dest"
echo "$sha" >"$stamp"
echo "whisper.cpp 1.8.5 sources ready in $dest ($(du -sh "$dest" | cut -f1))" >&2
