"""Draw the app icon files in packaging/icons/ from `backend.desktop.icons.app_icon`.

Run from anywhere after the mark changes: python packaging/make_icons.py
The PNGs, .ico and .icns are rendered by the app's own drawing code, so they always match
the tray and window icons; the SVG states the same geometry (1/64 units) as vector paths.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ICON_DIR = REPO / "packaging" / "icons"
ICON_NAME = "cloudtolocalllm"
# The freedesktop hicolor theme's usual sizes, up to the 512 px macOS wants.
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # 256 is the largest an .ico holds
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)  # the sizes (and @2x) an .icns holds

# The same shapes `_draw_mark` draws, in its 1/64 units. Pillow's rectangle corners are
# inclusive pixel coordinates, hence the width 56 for x from 4 to 60.
SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 64 64">
  <title>CloudToLocalLLM</title>
  <rect x="4" y="7" width="56" height="38" rx="13" ry="13" fill="#3b82f6"/>
  <polygon points="13,40 9,58 28,43" fill="#3b82f6"/>
  <circle cx="19" cy="26" r="4.5" fill="#ffffff"/>
  <circle cx="32" cy="26" r="4.5" fill="#ffffff"/>
  <circle cx="45" cy="26" r="4.5" fill="#ffffff"/>
</svg>
"""


def png_path(size: int, folder: Path = ICON_DIR) -> Path:
    return folder / f"{ICON_NAME}-{size}.png"


def write_icons(folder: Path = ICON_DIR) -> list[Path]:
    """Write every icon file into `folder`; returns the paths written."""
    sys.path.insert(0, str(REPO))
    from backend.desktop.icons import app_icon

    folder.mkdir(parents=True, exist_ok=True)
    images = {size: app_icon(size) for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    written = []
    for size in PNG_SIZES:
        images[size].save(png_path(size, folder), optimize=True)
        written.append(png_path(size, folder))
    ico = folder / f"{ICON_NAME}.ico"
    largest = images[ICO_SIZES[-1]]
    # Each size drawn at that size, not one image scaled down by Pillow.
    largest.save(
        ico, sizes=[(s, s) for s in ICO_SIZES], append_images=[images[s] for s in ICO_SIZES]
    )
    icns = folder / f"{ICON_NAME}.icns"
    images[ICNS_SIZES[-1]].save(icns, append_images=[images[s] for s in ICNS_SIZES[:-1]])
    svg = folder / f"{ICON_NAME}.svg"
    svg.write_text(SVG, encoding="utf-8")
    return [*written, ico, icns, svg]


if __name__ == "__main__":
    for path in write_icons():
        print(path.relative_to(REPO))
