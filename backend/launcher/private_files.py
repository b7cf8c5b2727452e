"""The data dir is the user's alone: 0700 for directories and 0600 for files, as ssh and gpg
keep theirs, since it holds every conversation, the logs and the running app's token."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from backend.core.settings import DB_FILENAME

log = logging.getLogger("cloudtolocalllm.launcher")

PRIVATE_UMASK = 0o077  # every file the app creates from now on: no access for others
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def keep_new_files_private() -> None:
    """Before the first file is made: the database, its WAL and SHM, logs, settings and
    backups are all created by libraries that use the process's umask."""
    if os.name == "posix":
        os.umask(PRIVATE_UMASK)


def tighten(data_dir: Path) -> None:
    """Take group and other access away from the data dir and everything in it (an install
    made before this, or under a lax umask). Symbolic links are left alone, not followed."""
    if os.name != "posix":
        return  # Windows: the per-user app-data dir already has a private ACL
    _tighten_one(data_dir)
    if not (data_dir / DB_FILENAME).exists():
        # No install here yet: whatever the folder holds is not the app's to change (the
        # app's own files will be made under the private umask).
        return
    for root, dirs, files in os.walk(data_dir):
        for name in dirs + files:
            _tighten_one(Path(root) / name)


def _tighten_one(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or not mode & _OTHERS:
            return
        os.chmod(path, stat.S_IMODE(mode) & ~_OTHERS)
    except OSError as exc:  # another user's file, a read-only mount: say so, carry on
        log.warning("cannot make %s private: %s", path, exc.strerror or exc)
