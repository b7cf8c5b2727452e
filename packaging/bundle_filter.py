"""What the bundle leaves out of Qt: translations, QML, and plugins this app never loads.

Used by build.spec, not by the app. PyInstaller's Qt hooks collect every plugin of every Qt
module in use, and each plugin brings its libraries (the GTK theme plugin alone brings GTK,
Cairo and Pango). Dropping a plugin is only half the work: the libraries that nothing kept
still needs must go with it, which `prune` works out from the link graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

QT_DIR = "PyQt6/Qt6/"
# Chromium's UI strings; it falls back to this one when the user's language is missing.
KEPT_WEBENGINE_LOCALE = "en-US.pak"
UNUSED_DATA = (
    QT_DIR + "qml/",  # QML modules: the window is QtWidgets, not Qt Quick
    QT_DIR + "resources/qtwebengine_devtools_resources.pak",  # the inspector, never opened
)
# Plugin folders under PyQt6/Qt6/plugins/ that a desktop chat window never loads.
UNUSED_PLUGIN_DIRS = (
    "egldeviceintegrations",  # eglfs, for kiosk devices without a window system
    "generic",  # evdev input for eglfs/linuxfb
    "networkinformation",
    "position",
    "printsupport",  # printing goes through Chromium, not Qt's CUPS plugin
    "sqldrivers",
    "multimedia",
)
UNUSED_PLUGINS = (
    "platforms/libqeglfs.so",
    "platforms/libqminimalegl.so",
    "platforms/libqlinuxfb.so",
    "platforms/libqvnc.so",
    "platforms/libqvkkhrdisplay.so",
    "platformthemes/libqgtk3.so",  # GTK itself comes with it; xdgdesktopportal stays
    "imageformats/libqpdf.so",  # Qt Pdf, for an image format no window icon uses
    "imageformats/libqtiff.so",
    "imageformats/libqwebp.so",
    "imageformats/libqicns.so",
    "imageformats/libqtga.so",
    "imageformats/libqwbmp.so",
)

TocEntry = tuple[str, str, str]  # (destination in the bundle, source path, type code)
ImportsOf = Callable[[str], Iterable[str]]  # a binary's source path -> paths it links to


def unused_data(dest: str) -> bool:
    """True for a data file the bundle can do without (`dest` as PyInstaller names it)."""
    dest = dest.replace("\\", "/")
    if dest.startswith(UNUSED_DATA):
        return True
    translations = QT_DIR + "translations/"
    if dest.startswith(translations):
        return PurePosixPath(dest).name != KEPT_WEBENGINE_LOCALE
    return False


def unused_plugin(dest: str) -> bool:
    """True for a Qt plugin this app never loads."""
    dest = dest.replace("\\", "/")
    plugins = QT_DIR + "plugins/"
    if not dest.startswith(plugins):
        return False
    inside = dest[len(plugins) :]
    return inside.split("/", 1)[0] in UNUSED_PLUGIN_DIRS or inside in UNUSED_PLUGINS


def prune(
    binaries: list[TocEntry], dropped: Callable[[str], bool], imports_of: ImportsOf
) -> list[TocEntry]:
    """`binaries` without those `dropped` says, nor the libraries only they needed.

    `imports_of` gives every library a binary loads, transitively (ldd's answer). A library
    stays if anything kept links to it, or if no dropped binary does (it may be loaded by
    name at run time, as NSS loads its softokn, so the link graph cannot speak for it).
    """
    gone = [entry for entry in binaries if dropped(entry[0])]
    pulled_in = {_name(path) for entry in gone for path in imports_of(entry[1])}
    roots = [e for e in binaries if not dropped(e[0]) and _name(e[0]) not in pulled_in]
    needed = {_name(e[0]) for e in roots}
    for entry in roots:
        needed.update(_name(path) for path in imports_of(entry[1]))
    orphans = pulled_in - needed
    return [e for e in binaries if not dropped(e[0]) and _name(e[0]) not in orphans]


def without_dangling_symlinks(toc: list[TocEntry], kept: list[TocEntry]) -> list[TocEntry]:
    """`toc` without the symlinks (PyInstaller lists them with the data) to dropped files."""
    present = {entry[0].replace("\\", "/") for entry in kept}
    return [e for e in toc if e[2] != "SYMLINK" or e[1].replace("\\", "/") in present]


def _name(path: str) -> str:
    # Libraries are matched by file name: PyInstaller adds a top-level symlink beside a
    # library it keeps in a package folder, and both must go together.
    return PurePosixPath(path.replace("\\", "/")).name
