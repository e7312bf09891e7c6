#!/usr/bin/env bash
# Benchmarks the voice against Python piper-tts side by side (same voice, same ONNX Runtime version).
# Sets up a Python venv with piper-tts==1.8.0 and onnxruntime==1.24.2 once, in the cache folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-voice.sh >/dev/null
scripts/setup-whisper-src.sh
venv="${XDG_CACHE_HOME:-$HOME/.cache}/dataready/piper-bench-venv"
if ! "$venv/bin/python" -c "import piper, onnxruntime; assert onnxruntime.__version__ == '1.24.2'" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --only-binary=:all: piper-tts==1.8.0 onnxruntime==1.24.2
fi
PIPER_PYTHON="$venv/bin/python" cargo bench --bench voice
