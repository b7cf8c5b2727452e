#!/usr/bin/env bash
# The README's install-and-run command on a fresh Debian 12, as a new user meets it: a
# minimal root (python3 python3-venv python3-pip git sudo ca-certificates, nothing else),
# a clean clone of this checkout in a sudo user's home, the command run there verbatim
# (taken from README.md, so the two cannot drift), the window it opens screenshot on an
# Xvfb outside the root. Then the tests' venv (.ci/venv) and a few tests from it, and
# install.sh as root. Run as root: bash .ci/fresh_install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/fresh_root.sh

ARTIFACTS=${ARTIFACTS:-$PWD/test-artifacts/fresh-install}
USER_NAME=alice
WORK=$(mktemp -d /var/tmp/cloudtolocalllm-fresh.XXXXXX)
ROOT=$WORK/root
CHECKOUT=/home/$USER_NAME/CloudToLocalLLM
XVFB_PID=""
APP_JOB=""

step() { echo "fresh-install: $* ($(date +%T))"; }

cleanup() {
  local status=$?
  [ -z "$APP_JOB" ] || kill "$APP_JOB" 2>/dev/null || true
  fresh_root_remove "$ROOT" || status=1
  [ -z "$XVFB_PID" ] || kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# The first ```bash block of README.md: one line, the install-and-run command.
readme_command() {
  awk '/^```bash$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' README.md
}

# The app's own processes inside the root (its Qt helpers are children of the main one).
app_pids() {
  local pid
  for pid in $(_fresh_root_pids "$(realpath "$ROOT")"); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "bin/cloudtolocalllm"; then
      echo "$pid"
    fi
  done
}

start_xvfb() {
  local number_file=$WORK/display
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$number_file" 2>/dev/null &
  XVFB_PID=$!
  for _ in $(seq 100); do
    [ -s "$number_file" ] && break
    sleep 0.1
  done
  DISPLAY=":$(cat "$number_file")"
  export DISPLAY
}

# The app's /api/health, asked with the token of the ready line in the command's log.
app_health() {
  python3 - "$1" <<'PY'
import json, sys, urllib.request

ready = next(json.loads(line) for line in open(sys.argv[1]) if line.startswith('{"event": "ready"'))
request = urllib.request.Request(
    ready["url"] + "api/health", headers={"Authorization": "Bearer " + ready["token"]}
)
print(json.dumps(json.load(urllib.request.urlopen(request, timeout=5))))
PY
}

# Waits for the ready line, a mapped window with the app's title, and the page in it
# connected over its WebSocket, with the Ollama check settled (none runs here).
wait_for_window() {
  local log=$1
  for _ in $(seq 600); do
    if ! kill -0 "$APP_JOB" 2>/dev/null; then
      tail -n 40 "$log"
      echo "fresh-install: the README command ended before a window opened" >&2
      return 1
    fi
    if grep -q '"event": "ready"' "$log" && xdotool search --onlyvisible --name CloudToLocalLLM \
      >/dev/null 2>&1 && app_health "$log" 2>/dev/null | grep -q '"ui_connections": [1-9]' &&
      ! app_health "$log" 2>/dev/null | grep -q '"state": "connecting"'; then
      return 0
    fi
    sleep 1
  done
  tail -n 40 "$log"
  echo "fresh-install: no window after 10 minutes" >&2
  return 1
}

# The page is drawn when the UI's stylesheet and text are there: more than a few colours.
check_screenshot() {
  local shot=$1 colours
  sleep 3 # the DOM is ready before the screen repaints
  import -window root "$shot"
  colours=$(convert "$shot" -format %k info:)
  step "screenshot $shot has $colours colours"
  [ "$colours" -gt 50 ]
}

stop_app() {
  local pids
  pids=$(app_pids)
  [ -n "$pids" ] || {
    echo "fresh-install: the app is not running" >&2
    return 1
  }
  kill -TERM $pids
  wait "$APP_JOB"
  APP_JOB=""
}

main() {
  local command log="$ARTIFACTS/readme-command.log"
  command=$(readme_command)
  [ -n "$command" ] && [ "$(echo "$command" | wc -l)" -eq 1 ] || {
    echo "fresh-install: README.md's first bash block must be one command line" >&2
    return 1
  }
  mkdir -p "$ARTIFACTS"
  step "preparing a fresh Debian 12 root in $ROOT"
  fresh_root_prepare "$ROOT"
  start_xvfb
  fresh_root_mount "$ROOT" "$DISPLAY"
  fresh_root_run "$ROOT" useradd --create-home --shell /bin/bash --groups sudo "$USER_NAME"
  echo "$USER_NAME ALL=(ALL) NOPASSWD: ALL" >"$ROOT/etc/sudoers.d/$USER_NAME"
  git clone -q --no-hardlinks . "$ROOT$CHECKOUT"
  fresh_root_run "$ROOT" chown -R "$USER_NAME:" "$CHECKOUT"

  step "running the README command as $USER_NAME (with sudo): $command"
  fresh_root_run_as "$ROOT" "$USER_NAME" bash -c "cd $CHECKOUT && $command" >"$log" 2>&1 &
  APP_JOB=$!
  wait_for_window "$log"
  check_screenshot "$ARTIFACTS/window.png"
  stop_app
  step "the app stopped; README command log in $log"

  # The root has what the README command installed: enough for the tests that need no
  # browser or X server. (.ci/setup's apt list adds those, with the same apt as above.)
  step "the tests' venv (.ci/venv) in the same root, and a few tests from it"
  fresh_root_run_as "$ROOT" "$USER_NAME" bash -c "cd $CHECKOUT && bash .ci/venv"
  fresh_root_run_as "$ROOT" "$USER_NAME" bash -c "cd $CHECKOUT && .venv/bin/python -m pytest \
    -q -p no:cacheprovider tests/test_cli_errors.py tests/test_docs.py tests/test_settings.py"

  step "install.sh as root (no sudo), starting the app with --version"
  fresh_root_run "$ROOT" bash -c "cd $CHECKOUT && bash install.sh --version" \
    | tee "$ARTIFACTS/install-as-root.log" | tail -n 3
  grep -q "^cloudtolocalllm " "$ARTIFACTS/install-as-root.log"
  step "done"
}

main
