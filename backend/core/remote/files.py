"""Remote access's files under `<data-dir>/remote/`: user-only, replaced atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def remote_dir(data_dir: Path) -> Path:
    """Where remote access keeps its files; made with the first file written there."""
    return data_dir / "remote"


def write_private_json(path: Path, data: Any) -> None:
    """Write JSON readable by the user only (keys and device lists are nobody else's)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(partial, 0o600)  # mkstemp makes it 0600 already; say so where it matters
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
