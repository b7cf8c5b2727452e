# Sourceable bash functions: a minimal Debian 12 root, as a new user's machine starts out
# (debootstrap minbase + python3 python3-venv python3-pip git sudo ca-certificates), to try
# install instructions and packages in with `chroot`, an X display lent from outside.
#
#   source .ci/fresh_root.sh
#   fresh_root_prepare DIR            # unpack the cached root (build and cache it once)
#   fresh_root_mount DIR :99          # proc, sys, dev, the X socket, this machine's pip folders
#   fresh_root_run DIR CMD...         # run CMD as root inside, with DISPLAY and pip settings
#   fresh_root_run_as DIR USER CMD... # the same as another user of the root
#   fresh_root_umount DIR             # stop what still runs inside, unmount everything
#   fresh_root_remove DIR             # unmount, check nothing is left mounted, delete
#
# Needs root, debootstrap and network access to the Debian mirror this machine uses.
# Callers should `trap 'fresh_root_remove DIR' EXIT` right after choosing DIR.

FRESH_ROOT_CACHE=${FRESH_ROOT_CACHE:-/var/cache/cloudtolocalllm-ci}
FRESH_ROOT_SUITE=bookworm
FRESH_ROOT_PACKAGES="python3 python3-venv python3-pip git sudo ca-certificates"
FRESH_ROOT_DISPLAY=""

# The mirror this machine's apt uses (deb822 sources first, then the one-line format).
_fresh_root_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# The cache key names the suite and the package list, so changing either rebuilds it.
_fresh_root_tarball() {
  local key
  key=$(echo "$FRESH_ROOT_SUITE $FRESH_ROOT_PACKAGES" | sha256sum | cut -c1-12)
  echo "$FRESH_ROOT_CACHE/$FRESH_ROOT_SUITE-minbase-$key.tar.gz"
}

# Absolute paths that this machine's pip settings name and that exist here: the settings
# files themselves, the CA bundle, constraint files, find-links and local index folders
# (an index's `simple/` pages link to files beside it, so its parent folder is taken).
_fresh_root_pip_paths() {
  python3 -m pip config debug 2>/dev/null \
    | grep -oE "(file://)?/[^ ,'\"]+" \
    | sed -e 's|^file://||' -e 's|/*$||' -e 's|/simple$||' \
    | sort -u \
    | while read -r path; do if [ -e "$path" ]; then echo "$path"; fi; done
}

fresh_root_prepare() {
  local dir=${1:?usage: fresh_root_prepare DIR} tarball
  tarball=$(_fresh_root_tarball)
  mkdir -p "$dir" "$FRESH_ROOT_CACHE"
  if [ -f "$tarball" ]; then
    tar -xzf "$tarball" -C "$dir" --numeric-owner
  else
    local packages=${FRESH_ROOT_PACKAGES// /,}
    debootstrap --variant=minbase --include="$packages" "$FRESH_ROOT_SUITE" "$dir" \
      "$(_fresh_root_mirror)" >"$FRESH_ROOT_CACHE/debootstrap.log" 2>&1 || {
      tail -n 30 "$FRESH_ROOT_CACHE/debootstrap.log" >&2
      return 1
    }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    # Written aside, then renamed: an interrupted run never leaves half a tarball behind.
    tar -czf "$tarball.part" -C "$dir" --numeric-owner . && mv "$tarball.part" "$tarball"
  fi
  _fresh_root_configure "$dir"
}

# What a chroot needs from this machine: name resolution (this host's name too: sudo looks
# it up), the same apt sources, no
# services started by package scripts, the local CAs, and pip's settings files.
_fresh_root_configure() {
  local dir=$1 path
  cp /etc/resolv.conf /etc/hosts "$dir/etc/"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$dir/etc/apt/sources.list.d/"
    rm -f "$dir/etc/apt/sources.list"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  # Local CAs go where update-ca-certificates finds them, so a package that regenerates
  # the bundle inside keeps them.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    chroot "$dir" update-ca-certificates >/dev/null 2>&1 || true
  fi
  _fresh_root_pip_paths | while read -r path; do
    if [ -f "$path" ]; then
      mkdir -p "$dir$(dirname "$path")"
      cp "$path" "$dir$path"
    fi
  done
}

# Binds read-only: the root must not change this machine's wheel folders.
_fresh_root_bind() {
  local source=$1 target=$2 mode=${3:-rw}
  mkdir -p "$target"
  mount --bind "$source" "$target"
  if [ "$mode" = ro ]; then
    mount -o remount,bind,ro "$target"
  fi
}

fresh_root_mount() {
  local dir=${1:?usage: fresh_root_mount DIR DISPLAY} display=${2:-} path
  mount -t proc proc "$dir/proc"
  mount --rbind /sys "$dir/sys" && mount --make-rslave "$dir/sys"
  mount --rbind /dev "$dir/dev" && mount --make-rslave "$dir/dev"
  if [ -n "$display" ] && [ -d /tmp/.X11-unix ]; then
    _fresh_root_bind /tmp/.X11-unix "$dir/tmp/.X11-unix"
  fi
  _fresh_root_pip_paths | while read -r path; do
    if [ -d "$path" ]; then
      _fresh_root_bind "$path" "$dir$path" ro
    fi
  done
  FRESH_ROOT_DISPLAY=$display
}

# The environment inside: a login's basics, the lent display, this machine's pip settings.
_fresh_root_env() {
  local home=$1 name
  echo "HOME=$home"
  echo "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  echo "LANG=C.UTF-8"
  echo "DEBIAN_FRONTEND=noninteractive"
  if [ -n "$FRESH_ROOT_DISPLAY" ]; then echo "DISPLAY=$FRESH_ROOT_DISPLAY"; fi
  for name in $(compgen -e); do
    case $name in PIP_*) echo "$name=${!name}" ;; esac
  done
}

fresh_root_run() {
  local dir=${1:?usage: fresh_root_run DIR CMD...}
  shift
  local -a vars
  mapfile -t vars < <(_fresh_root_env /root)
  chroot "$dir" /usr/bin/env -i "${vars[@]}" "$@"
}

# USER must exist in the root; the user-level pip settings go to its home as well.
fresh_root_run_as() {
  local dir=${1:?usage: fresh_root_run_as DIR USER CMD...} user=${2:?} home
  shift 2
  home=$(chroot "$dir" getent passwd "$user" | cut -d: -f6)
  _fresh_root_pip_paths | while read -r path; do
    case $path in "$HOME"/*)
      chroot "$dir" runuser -u "$user" -- mkdir -p "$home$(dirname "${path#"$HOME"}")"
      cp "$path" "$dir$home${path#"$HOME"}"
      chroot "$dir" chown "$user:" "$home${path#"$HOME"}" ;;
    esac
  done
  local -a vars
  mapfile -t vars < <(_fresh_root_env "$home")
  vars+=("USER=$user" "LOGNAME=$user")
  chroot "$dir" /usr/sbin/runuser -u "$user" -- /usr/bin/env -i "${vars[@]}" "$@"
}

# Pids of processes whose root directory is DIR (left running by a test or a package).
_fresh_root_pids() {
  local dir=$1 proc
  for proc in /proc/[0-9]*; do
    if [ "$(readlink "$proc/root" 2>/dev/null)" = "$dir" ]; then
      echo "${proc#/proc/}"
    fi
  done
}

fresh_root_umount() {
  local dir target pids
  dir=$(realpath "${1:?usage: fresh_root_umount DIR}")
  pids=$(_fresh_root_pids "$dir")
  if [ -n "$pids" ]; then
    kill -TERM $pids 2>/dev/null || true
    sleep 2
    pids=$(_fresh_root_pids "$dir")
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  fi
  # Deepest first; a lazy unmount if something still holds a mount busy.
  # (grep finds nothing once all is unmounted: not a failure under `set -o pipefail`)
  { findmnt -rn -o TARGET | grep -E "^$dir(/|$)" || true; } | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target"
  done
}

fresh_root_remove() {
  local dir=${1:?usage: fresh_root_remove DIR}
  [ -d "$dir" ] || return 0
  dir=$(realpath "$dir")
  fresh_root_umount "$dir"
  # Never delete through a bind mount: that would delete this machine's /dev or wheels.
  if findmnt -rn -o TARGET | grep -qE "^$dir(/|$)"; then
    echo "fresh_root_remove: $dir still has mounts; not deleting it" >&2
    return 1
  fi
  rm -rf --one-file-system "$dir"
}
