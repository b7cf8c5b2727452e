"""Why a folder cannot be made, in words that are true where the OS's own mislead.

`mkdir -p` on a regular file says "File exists", and under /proc "No such file or
directory": both true of the system call, both wrong about what the user must change.
"""

from __future__ import annotations

import errno
from pathlib import Path

MOUNTS = Path("/proc/self/mounts")


def why_not_a_folder(exc: OSError) -> str:
    """One line naming what stands in the way of the folder `exc.filename`."""
    failed = Path(exc.filename) if exc.filename else None
    if failed is None:
        return exc.strerror or exc.__class__.__name__
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        for part in (*reversed(failed.parents), failed):  # the outermost first
            if part.exists() and not part.is_dir():
                return f"{part} exists and is not a folder"
    if exc.errno == errno.ENOENT:
        existing = next((part for part in failed.parents if part.exists()), None)
        if existing is not None and existing.is_dir():
            kind = file_system_type(existing)
            where = f" (a {kind} file system)" if kind else ""
            return f"{existing} does not allow new folders in it{where}"
    return exc.strerror or exc.__class__.__name__


def file_system_type(path: Path) -> str | None:
    """The type of the file system holding `path` (Linux's mount table), if known."""
    try:
        lines = MOUNTS.read_text().splitlines()
    except OSError:
        return None  # not Linux, or no /proc
    best, kind = "", None
    target = str(path.resolve())
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table escapes spaces as \040.
        mount_point = fields[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, kind = mount_point, fields[2]
    return kind
