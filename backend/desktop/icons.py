"""The app's mark (a rounded chat bubble) and the tray icon with its status dot.

Everything is drawn on a 4x canvas and downsampled, which is Pillow's cheap route to
anti-aliased shapes. Geometry is in units of 1/64 of the icon so every size matches.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

SCALE = 4  # supersampling factor
MARK_COLOUR = (59, 130, 246, 255)  # blue bubble
GLYPH_COLOUR = (255, 255, 255, 255)  # the three "typing" dots inside it
STATE_COLOURS: dict[str, tuple[int, int, int, int]] = {
    "connected": (34, 197, 94, 255),  # green
    "connecting": (245, 158, 11, 255),  # amber
    "reconnecting": (245, 158, 11, 255),
    "error": (239, 68, 68, 255),  # red
    "disconnected": (148, 163, 184, 255),  # grey
}
UNKNOWN_STATE_COLOUR = STATE_COLOURS["disconnected"]

# The status dot, in 1/64 units: centre and radius, plus the transparent gap around it
# that keeps it readable on both light and dark panels.
DOT_CENTRE = (49.0, 49.0)
DOT_RADIUS = 12.0
DOT_GAP = 3.0


def dot_centre(size: int) -> tuple[int, int]:
    """The pixel at the centre of the status dot in an icon of `size` pixels."""
    return int(DOT_CENTRE[0] * size / 64), int(DOT_CENTRE[1] * size / 64)


def state_colour(state: str) -> tuple[int, int, int, int]:
    """The dot colour for a connection state; an unknown state reads as disconnected."""
    return STATE_COLOURS.get(state, UNKNOWN_STATE_COLOUR)


def app_icon(size: int) -> Image.Image:
    """The mark alone (window, taskbar and installer icons), RGBA, `size` x `size`."""
    canvas, draw, unit = _canvas(size)
    _draw_mark(draw, unit)
    return _downsample(canvas, size)


def draw_icon(state: str, size: int = 64) -> Image.Image:
    """The tray icon: the mark with a dot coloured for `state`, RGBA, `size` x `size`."""
    canvas, draw, unit = _canvas(size)
    _draw_mark(draw, unit)
    cx, cy = DOT_CENTRE
    # Drawing with a transparent fill replaces pixels rather than blending, which cuts
    # the gap out of the bubble.
    draw.ellipse(_circle(cx, cy, DOT_RADIUS + DOT_GAP, unit), fill=(0, 0, 0, 0))
    draw.ellipse(_circle(cx, cy, DOT_RADIUS, unit), fill=state_colour(state))
    return _downsample(canvas, size)


def _canvas(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
    if size < 1:
        raise ValueError(f"icon size must be positive, not {size}")
    canvas = Image.new("RGBA", (size * SCALE, size * SCALE), (0, 0, 0, 0))
    return canvas, ImageDraw.Draw(canvas), size * SCALE / 64


def _draw_mark(draw: ImageDraw.ImageDraw, unit: float) -> None:
    """A rounded speech bubble with a tail at the lower left and three dots inside."""
    draw.rounded_rectangle(
        [4 * unit, 7 * unit, 60 * unit, 45 * unit], radius=13 * unit, fill=MARK_COLOUR
    )
    draw.polygon(
        [(13 * unit, 40 * unit), (9 * unit, 58 * unit), (28 * unit, 43 * unit)], fill=MARK_COLOUR
    )
    for x in (19.0, 32.0, 45.0):
        draw.ellipse(_circle(x, 26.0, 4.5, unit), fill=GLYPH_COLOUR)


def _circle(cx: float, cy: float, radius: float, unit: float) -> list[float]:
    return [(cx - radius) * unit, (cy - radius) * unit, (cx + radius) * unit, (cy + radius) * unit]


def _downsample(canvas: Image.Image, size: int) -> Image.Image:
    # Pillow premultiplies alpha when resampling RGBA, so edges do not darken.
    return canvas.resize((size, size), Image.Resampling.LANCZOS)
