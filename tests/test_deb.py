"""The .deb's `Depends:` derivation (packaging/deb), on real ELF files and this system's dpkg.

The package itself is built and installed in a fresh Debian 12 root by .ci/check_deb.sh.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from tests.app_process import REPO

DEB_DIR = REPO / "packaging" / "deb"
pytestmark = pytest.mark.skipif(
    not (shutil.which("dpkg") and shutil.which("readelf") and shutil.which("ldd")),
    reason="needs dpkg, readelf (binutils) and ldd",
)


def _load(name: str):
    # packaging/ is not a Python package (it would shadow PyPI's `packaging`): load by path.
    sys.path.insert(0, str(DEB_DIR))
    try:
        spec = importlib.util.spec_from_file_location(name, DEB_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(DEB_DIR))


shlib_depends = _load("shlib_depends")
build_deb = _load("build_deb")


def _system_library(name: str) -> Path:
    found = shlib_depends.resolved(Path("/bin/ls")).get(name)
    if not found:
        pytest.skip(f"/bin/ls does not link {name} here")
    return Path(found)


def test_a_bundle_depends_on_the_packages_of_the_libraries_it_does_not_carry(tmp_path):
    shutil.copy("/bin/ls", tmp_path / "ls")
    _system_library("libselinux.so.1")
    assert shlib_depends.bundle_depends(tmp_path) == ["libc6", "libselinux1"]


def test_a_carried_library_is_no_dependency_but_what_it_links_to_is(tmp_path):
    shutil.copy("/bin/ls", tmp_path / "ls")
    shutil.copy(_system_library("libselinux.so.1"), tmp_path / "libselinux.so.1")
    # libselinux links libpcre2-8, which ldd finds under /lib and dpkg knows under /usr/lib.
    assert shlib_depends.bundle_depends(tmp_path) == ["libc6", "libpcre2-8-0"]


def test_only_elf_files_are_read(tmp_path):
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend" / "index.html").write_text("<!doctype html>")
    shutil.copy("/bin/ls", tmp_path / "ls")
    (tmp_path / "libls.so").symlink_to(tmp_path / "ls")
    assert shlib_depends.elf_files(tmp_path) == [tmp_path / "ls"]


def test_a_changed_dependency_list_stops_the_build_until_updated(tmp_path):
    kept = tmp_path / "depends.txt"
    build_deb.write_depends_file(kept, ["libc6", "libgl1"])
    assert build_deb.checked_depends(["libc6", "libgl1"], kept, update=False) == ["libc6", "libgl1"]
    with pytest.raises(SystemExit, match=r"not listed: libegl1\n.*no longer needed: libgl1"):
        build_deb.checked_depends(["libc6", "libegl1"], kept, update=False)
    assert build_deb.read_depends_file(kept) == ["libc6", "libgl1"]
    build_deb.checked_depends(["libc6", "libegl1"], kept, update=True)
    assert build_deb.read_depends_file(kept) == ["libc6", "libegl1"]


def test_the_kept_list_is_sorted_with_each_package_once():
    # The list is what reviewers read: sorted, one package a line, none twice.
    kept = build_deb.read_depends_file(build_deb.DEPENDS_FILE)
    assert kept and kept == sorted(set(kept)) and "libc6" in kept
