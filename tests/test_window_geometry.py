"""The window's size and position come back at the next launch."""

from __future__ import annotations

from backend.desktop import geometry
from backend.desktop.geometry import Geometry


def test_saved_geometry_comes_back(tmp_path):
    geometry.save(tmp_path, Geometry(width=900, height=700, x=40, y=60))
    assert geometry.load(tmp_path) == Geometry(width=900, height=700, x=40, y=60)


def test_defaults_without_a_file_or_with_a_bad_one(tmp_path):
    assert geometry.load(tmp_path) == Geometry()
    (tmp_path / geometry.FILENAME).write_text("{not json")
    assert geometry.load(tmp_path) == Geometry()
    (tmp_path / geometry.FILENAME).write_text('{"width": "wide"}')
    assert geometry.load(tmp_path) == Geometry()


def test_too_small_is_raised_and_off_screen_is_forgotten(tmp_path):
    geometry.save(tmp_path, Geometry(width=10, height=10, x=99999, y=5))
    loaded = geometry.load(tmp_path)
    assert (loaded.width, loaded.height) == (geometry.MIN_WIDTH, geometry.MIN_HEIGHT)
    assert (loaded.x, loaded.y) == (None, None)
