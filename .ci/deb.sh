#!/usr/bin/env bash
# Build the bundle and the .deb, then check the .deb in a fresh Debian 12 root:
#   bash .ci/deb.sh     (as root; after the tests, from .ci/run)
# Leaves dist/cloudtolocalllm_<version>_<arch>.deb and test-artifacts/deb/ (screenshot, logs).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/fresh_root.sh

# The project's venv (.ci/venv) where there is one, else the Python on the PATH.
python=.venv/bin/python
[ -x "$python" ] || python=python3
"$python" -m PyInstaller --noconfirm --log-level WARN build.spec
deb=$("$python" packaging/deb/build_deb.py dist/CloudToLocalLLM)
echo "deb.sh: $deb ($(du -m "$deb" | cut -f1) MB)"

root=$(mktemp -d /tmp/deb-root.XXXXXX)
trap 'set +e; fresh_root_remove "$root"' EXIT
fresh_root_prepare "$root"
bash .ci/check_deb.sh "$root" "$deb"
