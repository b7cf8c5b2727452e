"""The Linux menu entry and icons: installed for the user, and the entry really starts the app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from backend import __version__
from backend.desktop.icons import app_icon
from backend.desktop.integration import (
    ICON_SIZES,
    desktop_entry,
    install_desktop_entry,
    uninstall_desktop_entry,
)
from tests.app_process import REPO

ICONS = REPO / "packaging" / "icons"
ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}  # a key file's string escapes
TEMPLATE = (REPO / "packaging" / "cloudtolocalllm.desktop").read_text()


def run_app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_entry(path: Path) -> dict[str, dict[str, str]]:
    """A Desktop Entry file's groups and keys, string escapes undone (spec 1.5)."""
    groups: dict[str, dict[str, str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            assert line.endswith("]") and line[1:-1] not in groups, line
            current = groups[line[1:-1]] = {}
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None and key not in current, line
        current[key] = re.sub(r"\\(.)", lambda m: ESCAPES.get(m[1], m[0]), value)
    return groups


def exec_argv(value: str) -> list[str]:
    """An Exec value split into arguments the way a desktop launcher does it."""
    args, current, quoted, i, started = [], "", False, 0, False
    while i < len(value):
        char = value[i]
        if quoted and char == "\\" and i + 1 < len(value) and value[i + 1] in '"`$\\':
            current, i = current + value[i + 1], i + 2
            continue
        if char == '"':
            quoted, started = not quoted, True
        elif char == " " and not quoted:
            if started:
                args.append(current)
            current, started = "", False
        else:
            current, started = current + char, True
        i += 1
    if started:
        args.append(current)
    return [arg.replace("%%", "%") for arg in args]


def test_install_adds_the_menu_entry_and_icons_and_the_entry_starts_this_app(tmp_path):
    home = tmp_path / "share"
    done = run_app("--install-desktop-entry", env={"XDG_DATA_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Installed {home}/applications/cloudtolocalllm.desktop and 10 icons\n"
    for size in ICON_SIZES:
        with Image.open(home / f"icons/hicolor/{size}x{size}/apps/cloudtolocalllm.png") as icon:
            assert icon.size == (size, size) and icon.mode == "RGBA"
    svg = home / "icons/hicolor/scalable/apps/cloudtolocalllm.svg"
    assert svg.read_text().startswith("<svg")

    entry = read_entry(home / "applications" / "cloudtolocalllm.desktop")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application" and main["Name"] == "CloudToLocalLLM"
    assert main["Icon"] == "cloudtolocalllm" and main["Terminal"] == "false"
    assert main["Categories"].endswith(";") and main["Actions"] == "new-chat;"
    argv = exec_argv(main["Exec"])
    assert os.path.isabs(argv[0]) and main["TryExec"] == argv[0]
    assert exec_argv(entry["Desktop Action new-chat"]["Exec"]) == [*argv, "--new-chat"]
    # What the menu would run is this very program.
    started = subprocess.run(
        [*argv, "--version"], cwd=main.get("Path"), capture_output=True, text=True, timeout=30
    )
    assert started.stdout == f"cloudtolocalllm {__version__}\n"


def test_exec_survives_paths_with_spaces_quotes_and_percent_signs():
    command = ['/opt/My Apps/$HOME/100%/a"b\\c`d', "-m", "backend"]
    text = desktop_entry(TEMPLATE, command, Path("/srv/with space"))
    path = Path(os.environ["XDG_DATA_HOME"]) / "entry.desktop"
    path.write_text(text)
    entry = read_entry(path)
    assert exec_argv(entry["Desktop Entry"]["Exec"]) == command
    assert entry["Desktop Entry"]["Path"] == "/srv/with space"
    assert exec_argv(entry["Desktop Action new-chat"]["Exec"]) == [*command, "--new-chat"]


def test_uninstall_removes_what_install_wrote_and_nothing_else(tmp_path):
    installed = install_desktop_entry(tmp_path)
    neighbour = tmp_path / "applications" / "another.desktop"
    neighbour.write_text("[Desktop Entry]\n")
    removed = uninstall_desktop_entry(tmp_path)
    assert sorted(removed) == sorted([installed.desktop_file, *installed.icons])
    assert neighbour.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [neighbour]
    assert uninstall_desktop_entry(tmp_path) == []


def test_an_unwritable_data_home_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    done = run_app("--install-desktop-entry", env={"XDG_DATA_HOME": str(blocker)})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and str(blocker) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("size", [16, 22, 24, 32, 48, 64, 128, 256, 512])
def test_each_png_is_the_app_mark_at_that_size(size):
    with Image.open(ICONS / f"cloudtolocalllm-{size}.png") as icon:
        assert _difference(icon.convert("RGBA"), app_icon(size)) < 1.0


def test_ico_and_icns_hold_every_size_they_need():
    with Image.open(ICONS / "cloudtolocalllm.ico") as ico:
        assert {16, 24, 32, 48, 64, 128, 256} <= {w for w, _ in ico.info["sizes"]}
        ico.size = (256, 256)
        assert _difference(ico.convert("RGBA"), app_icon(256)) < 1.0
    with Image.open(ICONS / "cloudtolocalllm.icns") as icns:
        assert {(512, 512, 2), (16, 16, 2), (128, 128, 1)} <= set(icns.info["sizes"])
        assert _difference(icns.convert("RGBA"), app_icon(1024)) < 1.0


def test_the_svg_draws_the_same_mark(tmp_path):
    rendered = tmp_path / "svg.png"
    script = (
        "import sys\n"
        "from PyQt6.QtCore import Qt\n"
        "from PyQt6.QtGui import QGuiApplication, QImage, QPainter\n"
        "from PyQt6.QtSvg import QSvgRenderer\n"
        "app = QGuiApplication(sys.argv[:1])\n"
        "image = QImage(128, 128, QImage.Format.Format_RGBA8888)\n"
        "image.fill(Qt.GlobalColor.transparent)\n"
        "painter = QPainter(image)\n"
        "QSvgRenderer(sys.argv[1]).render(painter)\n"
        "painter.end()\n"
        "image.save(sys.argv[2])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ICONS / "cloudtolocalllm.svg"), str(rendered)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with Image.open(rendered) as svg:
        assert _difference(svg.convert("RGBA"), app_icon(128)) < 2.0


def _difference(a: Image.Image, b: Image.Image) -> float:
    """How different two icons look on a white panel, and in their shape: 0 to 255."""
    assert a.size == b.size

    def seen(image: Image.Image) -> Image.Image:
        # Fully transparent pixels may hold any colour; only what shows through counts.
        return Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("RGB")

    colour = ImageStat.Stat(ImageChops.difference(seen(a), seen(b))).mean
    shape = ImageStat.Stat(ImageChops.difference(a.getchannel("A"), b.getchannel("A"))).mean
    return max(*colour, *shape)
