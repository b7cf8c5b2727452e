#!/usr/bin/env bash
# The .deb as a user gets it, in a fresh Debian 12 root (prepared by fresh_root_prepare):
# `apt-get install ./file.deb` pulls every dependency (recommends left out, so Depends alone
# must be enough), the app starts from the Exec= line of its installed menu entry with an X
# display lent from outside and its page loads (screenshot), --self-test passes, and removing
# the package leaves the user's data folder in place.
#
#   bash .ci/check_deb.sh ROOTDIR DEBFILE
#
# Screenshots and logs go to $ARTIFACTS (default test-artifacts/deb). Needs root, Xvfb, xdotool,
# ImageMagick and python3 on this machine.
set -euo pipefail
root=$(realpath "${1:?usage: check_deb.sh ROOTDIR DEBFILE}")
deb=$(realpath "${2:?usage: check_deb.sh ROOTDIR DEBFILE}")
here=$(dirname "$(realpath "$0")")
artifacts=$(realpath -m "${ARTIFACTS:-test-artifacts/deb}")
mkdir -p "$artifacts"
# shellcheck source=fresh_root.sh
source "$here/fresh_root.sh"

display=":$((90 + RANDOM % 400))"
xvfb_pid=""
cleanup() {
  set +e # clean up all the same after a failure
  fresh_root_umount "$root" # stops whatever still runs inside, then unmounts
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT # so that cleanup runs when stopped too

step() { echo "check_deb: $*"; }
fail() {
  echo "check_deb: FAILED: $*" >&2
  exit 1
}

# Wait up to $1 seconds for the command after it to succeed.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.25
  done
}

Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$artifacts/xvfb.log" 2>&1 &
xvfb_pid=$!
wait_for 20 env DISPLAY="$display" xdotool getdisplaygeometry >/dev/null 2>&1 ||
  fail "Xvfb did not start"
fresh_root_mount "$root" "$display"

step "apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
fresh_root_run "$root" apt-get update -q >"$artifacts/apt.log" 2>&1
fresh_root_run "$root" apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb")" \
  >>"$artifacts/apt.log" 2>&1 || fail "apt-get install (see $artifacts/apt.log)"
grep -E "^Setting up" "$artifacts/apt.log" | wc -l | xargs echo "check_deb: packages set up:"

entry="$root/usr/share/applications/cloudtolocalllm.desktop"
[ -f "$entry" ] || fail "no installed menu entry"
[ -f "$root/usr/share/icons/hicolor/256x256/apps/cloudtolocalllm.png" ] || fail "no icon"
exec_line=$(sed -n 's/^Exec=//p' "$entry" | head -n 1)
read -ra command <<<"$exec_line"

step "start from the menu entry: $exec_line"
fresh_root_run "$root" "${command[@]}" >"$artifacts/app.out" 2>"$artifacts/app.err" &
app_pid=$!
wait_for 60 test -s "$artifacts/app.out" || fail "no ready line ($(tail -n 5 "$artifacts/app.err"))"
# The page in the window has loaded when it holds a WebSocket to the backend.
health() {
  python3 - "$artifacts/app.out" <<'PY'
import json, sys, urllib.request
ready = json.loads(open(sys.argv[1]).readline())
request = urllib.request.Request(
    ready["url"] + "api/health", headers={"Authorization": f"Bearer {ready['token']}"}
)
health = json.load(urllib.request.urlopen(request, timeout=5))
sys.exit(0 if health["ui_connections"] >= 1 else 1)
PY
}
wait_for 90 health 2>/dev/null || fail "the window's page never connected ($(tail -n 5 "$artifacts/app.err"))"
# Its WM_CLASS is the menu entry's StartupWMClass, which docks match windows by.
DISPLAY="$display" xdotool search --onlyvisible --classname '^CloudToLocalLLM$' >/dev/null ||
  fail "no window of class CloudToLocalLLM"
sleep 2 # the DOM updates before the screen repaints
import -display "$display" -window root "$artifacts/deb-window.png"
step "window open, screenshot in $artifacts/deb-window.png"
# $app_pid is the shell around chroot; the ready line names the app's own process.
kill -TERM "$(python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["pid"])' \
  <"$artifacts/app.out")"
wait "$app_pid" || fail "the app did not exit 0 on SIGTERM"

step "--self-test"
fresh_root_run "$root" cloudtolocalllm --self-test | tee "$artifacts/self-test.txt"
grep -q "^self-test passed: .*gui ok" "$artifacts/self-test.txt" || fail "self-test"

data="$root/root/.local/share/CloudToLocalLLM"
[ -n "$(ls -A "$data")" ] || fail "the app left no data in $data"
step "apt-get remove cloudtolocalllm"
fresh_root_run "$root" apt-get remove -y -q cloudtolocalllm >>"$artifacts/apt.log" 2>&1
[ ! -e "$root/usr/bin/cloudtolocalllm" ] || fail "the launcher is left after removal"
if [ -e "$root/opt/cloudtolocalllm" ]; then
  # Chromium, run as root here, makes an empty resources/locales folder that no user can.
  left=$(find "$root/opt/cloudtolocalllm" -not -type d)
  [ -z "$left" ] || fail "files left after removal: $left"
  step "empty folders left by the app run as root: $(find "$root/opt/cloudtolocalllm" -empty)"
fi
[ -n "$(ls -A "$data")" ] || fail "removal took the data folder"
step "passed: data folder kept after removal ($(ls "$data" | tr '\n' ' '))"
