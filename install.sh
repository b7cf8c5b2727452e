#!/usr/bin/env bash
# Installs CloudToLocalLLM from this checkout for the current user, then starts it:
#   bash install.sh [app flags...]
# Works on Debian 12 and Ubuntu 24.04, as root or as a user with sudo. Running it again
# updates the installation. The checkout must stay where it is (the install is editable).
set -euo pipefail
cd "$(dirname "$0")"
CHECKOUT=$(pwd)

# A venv of its own, because Debian and Ubuntu refuse pip installs into the system Python
# (PEP 668); in a fixed place, so the launcher and a later run of this script find it.
VENV="${XDG_DATA_HOME:-$HOME/.local/share}/cloudtolocalllm-venv"
LAUNCHER_DIR="$HOME/.local/bin"

say() { echo "install.sh: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  say "apt needs root: run this as root, or install sudo and add yourself to the sudo group"
  exit 1
fi

# The window (pywebview's Qt backend: Qt's xcb platform plugin and QtWebEngine), with a
# font for the page; the tray (pystray's AppIndicator backend through PyGObject, which pip
# builds from source: compiler, headers and pkg-config files); and Python's venv.
SYSTEM_PACKAGES=(
  python3 python3-venv python3-pip
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libegl1 libgl1 libnss3
  libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 fonts-dejavu-core
  libgirepository1.0-dev libcairo2-dev pkg-config gcc python3-dev
  gir1.2-ayatanaappindicator3-0.1 gir1.2-gtk-3.0
)

say "installing the system libraries with apt"
# A fresh system's own updates may hold apt's lock for a while: wait, do not fail.
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q
# Ubuntu 24.04 renamed libasound2 to libasound2t64 (and names the old one only virtually).
if apt-cache show libasound2t64 >/dev/null 2>&1; then
  SYSTEM_PACKAGES+=(libasound2t64)
else
  SYSTEM_PACKAGES+=(libasound2)
fi
# sudo drops the environment: pass DEBIAN_FRONTEND on if the caller set it.
"${SUDO[@]}" env ${DEBIAN_FRONTEND:+DEBIAN_FRONTEND="$DEBIAN_FRONTEND"} \
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${SYSTEM_PACKAGES[@]}"

say "installing the app into $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -e "$CHECKOUT"

mkdir -p "$LAUNCHER_DIR"
ln -sf "$VENV/bin/cloudtolocalllm" "$LAUNCHER_DIR/cloudtolocalllm"
"$LAUNCHER_DIR/cloudtolocalllm" --install-desktop-entry || say "no menu entry (see above)"
case ":$PATH:" in
  *":$LAUNCHER_DIR:"*) say "installed: run it with: cloudtolocalllm" ;;
  *) say "installed: run it with: $LAUNCHER_DIR/cloudtolocalllm ($LAUNCHER_DIR is not on" \
    "your PATH: for users, Debian's and Ubuntu's ~/.profile adds it at the next login)" ;;
esac

say "starting CloudToLocalLLM"
exec "$LAUNCHER_DIR/cloudtolocalllm" "$@"
