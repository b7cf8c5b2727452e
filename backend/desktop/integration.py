"""The app in the Linux desktop: its icon in the hicolor theme and its menu entry.

`cloudtolocalllm --install-desktop-entry` puts both under $XDG_DATA_HOME (~/.local/share)
for the current user, no root needed, with the entry's Exec pointing at this very program:
the bundle's executable, the installed `cloudtolocalllm` script, or Python running the
checkout. Desktops watch those folders, so the entry shows up in the menu by itself.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from backend.core.resources import resource_root

APP_ID = "cloudtolocalllm"  # the .desktop file's name and the icon's name in the theme
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
WINDOW_ICON_SIZE = 256
# Characters that make the Desktop Entry spec require an Exec argument to be quoted.
_RESERVED = re.compile(r"""[\s"'\\><~|&;$*?#()`]""")


class IntegrationError(Exception):
    """The entry cannot be installed; the message is one line for the user."""


@dataclass(frozen=True)
class Installed:
    desktop_file: Path
    icons: list[Path]


def packaging_dir() -> Path:
    return resource_root() / "packaging"


def icon_file(size: int) -> Path:
    return packaging_dir() / "icons" / f"{APP_ID}-{size}.png"


def app_icon_file(size: int = WINDOW_ICON_SIZE) -> Path | None:
    """The PNG of the app's mark for the window, if the build has one."""
    path = icon_file(size)
    return path if path.is_file() else None


def data_home(env: dict[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share as the XDG Base Directory spec says."""
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    # The spec says a relative path is invalid and must be ignored.
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def launch_command() -> tuple[list[str], Path | None]:
    """The command that starts this app, and the folder it must start in (if any)."""
    if getattr(sys, "frozen", False):
        return [sys.executable], None
    script = shutil.which("cloudtolocalllm")
    if script:
        return [str(Path(script).resolve())], None
    # A checkout run as `python -m backend`: the package is found from its parent folder.
    return [sys.executable, "-m", "backend"], resource_root()


def desktop_entry(template: str, command: list[str], workdir: Path | None = None) -> str:
    """The template with its Exec lines running `command` (extra arguments kept)."""
    exec_value = " ".join(_exec_argument(arg) for arg in command)
    lines = []
    for line in template.splitlines():
        key, sep, value = line.partition("=")
        if sep and key == "Exec":
            _program, _, rest = value.partition(" ")
            line = f"Exec={exec_value}" + (f" {rest}" if rest else "")
        elif sep and key == "TryExec":
            line = f"TryExec={_escape_string(command[0])}"
        lines.append(line)
        if workdir is not None and line == "[Desktop Entry]":
            lines.append(f"Path={_escape_string(str(workdir))}")
    return "\n".join(lines) + "\n"


def install_desktop_entry(home: Path | None = None) -> Installed:
    """Copy the icons into the hicolor theme and write the menu entry; returns what was written."""
    home = data_home() if home is None else home
    template_path = packaging_dir() / f"{APP_ID}.desktop"
    sources = {size: icon_file(size) for size in ICON_SIZES}
    svg = packaging_dir() / "icons" / f"{APP_ID}.svg"
    missing = [p for p in (template_path, svg, *sources.values()) if not p.is_file()]
    if missing:
        raise IntegrationError(f"this build lacks {missing[0]}")
    command, workdir = launch_command()
    try:
        icons = [_copy(src, _icon_target(home, size)) for size, src in sources.items()]
        icons.append(_copy(svg, home / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg"))
        entry = home / "applications" / f"{APP_ID}.desktop"
        text = desktop_entry(template_path.read_text(encoding="utf-8"), command, workdir)
        _write(entry, text)
    except OSError as exc:
        raise IntegrationError(f"cannot write {exc.filename}: {exc.strerror}") from exc
    return Installed(entry, icons)


def uninstall_desktop_entry(home: Path | None = None) -> list[Path]:
    """Remove what `install_desktop_entry` wrote; returns the files that were there."""
    home = data_home() if home is None else home
    targets = [home / "applications" / f"{APP_ID}.desktop"]
    targets += [_icon_target(home, size) for size in ICON_SIZES]
    targets.append(home / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg")
    removed = [path for path in targets if path.is_file()]
    for path in removed:
        path.unlink()
    return removed


def _icon_target(home: Path, size: int) -> Path:
    return home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _write(target: Path, text: str) -> None:
    # Written beside and renamed, so a desktop watching the folder never reads half a file.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o644)
    partial.replace(target)


def _exec_argument(arg: str) -> str:
    """One Exec argument, quoted and escaped as the Desktop Entry spec asks."""
    arg = arg.replace("%", "%%")  # a lone % would be read as a field code
    if _RESERVED.search(arg):
        arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return _escape_string(arg)


def _escape_string(value: str) -> str:
    # The value is then a "string" in the key file, whose own escape is a backslash.
    return value.replace("\\", "\\\\")
