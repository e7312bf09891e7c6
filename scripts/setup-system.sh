#!/usr/bin/env bash
# System packages the build and tests need, installed only when missing (Debian/Ubuntu):
# cmake + clang/libclang (whisper.cpp and its bindings), ALSA headers + pkg-config (microphone),
# espeak-ng, flite and sox (speech the listening tests and benchmark generate: scripts/listening-clips).
set -euo pipefail
need=(cmake clang libclang-dev libasound2-dev pkg-config espeak-ng flite sox)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if ! command -v apt-get >/dev/null; then
  echo "please install: ${missing[*]} (needed to build whisper.cpp and use the microphone)" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
$sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"
