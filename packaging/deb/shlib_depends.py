"""The Debian packages a bundle's libraries link to and the bundle does not carry.

For every ELF file in the bundle: its NEEDED entries (readelf), less the libraries the
bundle holds itself (matched by file name, as the bootloader's library path finds them),
located the way the loader would (ldd), then the package owning each file (`dpkg -S`).
Only direct links count: a system library's own dependencies are its package's business.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_LDD_FOUND = re.compile(r"^\s*(\S+) => (/\S+)", re.MULTILINE)
_LDD_LOADER = re.compile(r"^\s*(/\S+) \(0x", re.MULTILINE)
_LDD_MISSING = re.compile(r"^\s*(\S+) => not found", re.MULTILINE)
_DPKG_OWNER = re.compile(r"^([^\s:,]+)(?::[^\s:,]+)?(?:, [^\s,]+)*: (/\S+)$")


def elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def needed(elf: Path) -> list[str]:
    out = subprocess.run(
        ["readelf", "--dynamic", "--wide", str(elf)], capture_output=True, text=True
    ).stdout
    return _NEEDED.findall(out)


def resolved(elf: Path) -> dict[str, str]:
    """Library name -> path the loader picks (ldd); missing ones map to ""."""
    out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True).stdout
    where = {name: path for name, path in _LDD_FOUND.findall(out)}
    where.update({Path(path).name: path for path in _LDD_LOADER.findall(out)})
    where.update({name: "" for name in _LDD_MISSING.findall(out)})
    return where


def system_libraries(bundle: Path) -> dict[str, str]:
    """Every library the bundle links to and does not carry: name -> path on this system."""
    carried = {path.name for path in bundle.rglob("*")}
    wanted: dict[str, str] = {}
    for elf in elf_files(bundle):
        outside = [name for name in needed(elf) if name not in carried and name not in wanted]
        if outside:
            where = resolved(elf)
            wanted.update({name: where.get(name, "") for name in outside})
    missing = sorted(name for name, path in wanted.items() if not path)
    if missing:
        raise SystemExit(f"the bundle links to libraries this system lacks: {' '.join(missing)}")
    return wanted


def _candidates(path: str) -> list[str]:
    # dpkg knows a file by the path its package ships; with merged /usr that may be the
    # /lib or the /usr/lib spelling, and the loader may name a symlink to it.
    real = str(Path(path).resolve())
    paths = []
    for p in (path, real):
        paths += [p, p.removeprefix("/usr")] if p.startswith("/usr/") else [p, "/usr" + p]
    return list(dict.fromkeys(paths))


def owners(paths: Iterable[str]) -> dict[str, str]:
    """File path -> owning package, for the paths dpkg knows."""
    paths = list(paths)
    out = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        match = _DPKG_OWNER.match(line)
        if match:
            found[match.group(2)] = match.group(1)
    return found


def packages_for(libraries: dict[str, str]) -> list[str]:
    candidates = {name: _candidates(path) for name, path in libraries.items()}
    known = owners(path for paths in candidates.values() for path in paths)
    packages, unowned = set(), []
    for name, paths in candidates.items():
        owner = next((known[p] for p in paths if p in known), None)
        if owner:
            packages.add(owner)
        else:
            unowned.append(f"{name} ({libraries[name]})")
    if unowned:
        raise SystemExit(f"no Debian package owns: {', '.join(sorted(unowned))}")
    return sorted(packages)


def bundle_depends(bundle: Path) -> list[str]:
    """The sorted Debian package names for a `Depends:` line."""
    return packages_for(system_libraries(bundle))
