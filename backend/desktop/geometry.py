"""The window's size and position, remembered between launches in the data dir."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("cloudtolocalllm.desktop")

FILENAME = "window.json"
MIN_WIDTH, MIN_HEIGHT = 640, 480


@dataclass
class Geometry:
    width: int = 1120
    height: int = 760
    x: int | None = None  # None: let the window manager place it
    y: int | None = None


def load(data_dir: Path) -> Geometry:
    """The saved geometry, or the defaults when there is none or it makes no sense."""
    try:
        saved = json.loads((data_dir / FILENAME).read_text(encoding="utf-8"))
        geometry = Geometry(
            width=max(MIN_WIDTH, int(saved["width"])),
            height=max(MIN_HEIGHT, int(saved["height"])),
            x=None if saved.get("x") is None else int(saved["x"]),
            y=None if saved.get("y") is None else int(saved["y"]),
        )
    except FileNotFoundError:
        return Geometry()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.info("ignoring the saved window geometry: %s", exc)
        return Geometry()
    # A position far off every screen (a monitor unplugged since) is worse than none.
    if geometry.x is not None and geometry.y is not None:
        if not (-geometry.width < geometry.x < 16384 and -100 < geometry.y < 16384):
            geometry.x = geometry.y = None
    return geometry


def save(data_dir: Path, geometry: Geometry) -> None:
    """Written atomically: a crash mid-write leaves the previous geometry."""
    path = data_dir / FILENAME
    partial = path.with_suffix(".json.partial")
    try:
        partial.write_text(json.dumps(asdict(geometry)), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        log.info("could not remember the window geometry: %s", exc)
