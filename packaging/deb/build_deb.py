"""Build the Debian package from the PyInstaller bundle, with dpkg-deb and nothing else.

    python3 packaging/deb/build_deb.py dist/CloudToLocalLLM
        -> dist/cloudtolocalllm_<version>_<arch>.deb

The app goes to /opt/cloudtolocalllm, `cloudtolocalllm` on the PATH is a script starting its
executable, and the menu entry and icons go to /usr/share. `Depends:` names the Debian
packages whose libraries the bundle links to and does not carry: every ELF file's NEEDED
entries, less the libraries inside the bundle, found with ldd and owned per `dpkg -S`. The
list is also kept in packaging/deb/depends.txt, so that a change shows in review: the build
stops when the two differ (`--update-depends` rewrites the file). DATA_DEPENDS adds what
carried libraries read from the system without linking to it (fontconfig's configuration).

No maintainer scripts: dpkg installs and removes files, and the user's data folder
(~/.local/share/CloudToLocalLLM) is never one of its files, so removal leaves it alone.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from shlib_depends import bundle_depends  # noqa: E402

PACKAGE = "cloudtolocalllm"
EXECUTABLE = "CloudToLocalLLM"
INSTALL_DIR = Path("opt") / PACKAGE
DEPENDS_FILE = HERE / "depends.txt"
# Files, not libraries, that carried libraries read from the system, so no link shows them:
# the carried libfontconfig reads /etc/fonts/fonts.conf, and without any font Chromium
# leaves the window blank. fontconfig-config ships the configuration and depends on a font.
DATA_DEPENDS = ["fontconfig-config"]
# The tray's Linux menu goes through Ayatana AppIndicator (StatusNotifierItem hosts) when
# the app can load PyGObject; without either, it runs with pystray's plain X11 icon.
RECOMMENDS = ["gir1.2-ayatanaappindicator3-0.1"]
# A script, not a symlink: Qt names the window's WM_CLASS after the executable it was
# started as, and the menu entry's StartupWMClass (which docks and taskbars match the
# window by) says CloudToLocalLLM.
LAUNCHER = f'#!/bin/sh\nexec /{INSTALL_DIR}/{EXECUTABLE} "$@"\n'
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def read_depends_file(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def write_depends_file(path: Path, packages: list[str]) -> None:
    header = (
        "# Debian packages whose libraries the bundle links to and does not carry.\n"
        "# Written by `packaging/deb/build_deb.py --update-depends`; the build stops when\n"
        "# the bundle needs something else, so a change shows here in review.\n"
    )
    path.write_text(header + "".join(f"{p}\n" for p in packages), encoding="utf-8")


def checked_depends(derived: list[str], kept_in: Path, update: bool) -> list[str]:
    """`derived`, if the list kept in `kept_in` says the same (or `update` rewrites it)."""
    kept = read_depends_file(kept_in)
    if derived == kept:
        return derived
    if update:
        write_depends_file(kept_in, derived)
        print(f"wrote {kept_in}", file=sys.stderr)
        return derived
    added = sorted(set(derived) - set(kept))
    dropped = sorted(set(kept) - set(derived))
    raise SystemExit(
        f"The bundle's Debian dependencies differ from {kept_in}:\n"
        f"  needed now, not listed: {' '.join(added) or '-'}\n"
        f"  listed, no longer needed: {' '.join(dropped) or '-'}\n"
        "Check the change, then run again with --update-depends and commit the file."
    )


def stage_files(bundle: Path, root: Path) -> None:
    """The package's file tree under `root`, modes as Debian expects them."""
    app = root / INSTALL_DIR
    shutil.copytree(bundle, app, symlinks=True)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    launcher = bin_dir / PACKAGE
    launcher.write_text(LAUNCHER, encoding="utf-8")
    launcher.chmod(0o755)
    share = root / "usr" / "share"
    applications = share / "applications"
    applications.mkdir(parents=True)
    shutil.copy(REPO / "packaging" / f"{PACKAGE}.desktop", applications)
    icons = REPO / "packaging" / "icons"
    for size in ICON_SIZES:
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy(icons / f"{PACKAGE}-{size}.png", target / f"{PACKAGE}.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy(icons / f"{PACKAGE}.svg", scalable)
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o755 if executable else 0o644)


def installed_size_kib(root: Path) -> int:
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) // 1024 + 1


def control_text(meta: dict, arch: str, depends: list[str], size_kib: int) -> str:
    summary = meta["description"]
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {meta['version']}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: CloudToLocalLLM developers <{PACKAGE}@users.noreply.github.com>\n"
        f"Installed-Size: {size_kib}\n"
        f"Depends: {', '.join(depends)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        "Section: utils\n"
        "Priority: optional\n"
        f"Description: {summary.rstrip('.')}\n"
        " A desktop window (and a tray icon) for chatting with the models of a local\n"
        " Ollama. Conversations stay on this computer, in ~/.local/share/CloudToLocalLLM,\n"
        " which removing the package leaves in place.\n"
    )


def build(bundle: Path, out_dir: Path, update_depends: bool) -> Path:
    if not (bundle / EXECUTABLE).is_file():
        raise SystemExit(f"{bundle} is not a bundle: no {EXECUTABLE} in it")
    meta = project()
    arch = architecture()
    linked = checked_depends(bundle_depends(bundle), DEPENDS_FILE, update_depends)
    depends = sorted({*linked, *DATA_DEPENDS})
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{PACKAGE}_{meta['version']}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="deb-") as tmp:
        root = Path(tmp) / "root"
        stage_files(bundle, root)
        control_dir = root / "DEBIAN"
        control_dir.mkdir(mode=0o755)
        control = control_text(meta, arch, depends, installed_size_kib(root))
        (control_dir / "control").write_text(control, encoding="utf-8")
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("bundle", type=Path, help="the PyInstaller folder, dist/CloudToLocalLLM")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="where the .deb goes")
    parser.add_argument(
        "--update-depends", action="store_true", help=f"rewrite {DEPENDS_FILE.name}"
    )
    args = parser.parse_args(argv)
    deb = build(args.bundle.resolve(), args.out, args.update_depends)
    print(deb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
