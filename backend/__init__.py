"""CloudToLocalLLM: a private desktop chat for the models in your local Ollama.

`pyproject.toml` holds the one version number. A checkout and the PyInstaller bundle (which
carries the file beside the `backend` package) read it there; an installed wheel has no
pyproject.toml beside it and reads the number its metadata got from that file.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DIST_NAME = "cloudtolocalllm"


def _read_version() -> str:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        project = {}
    if project.get("name") == DIST_NAME and "version" in project:
        return project["version"]
    return metadata.version(DIST_NAME)


__version__ = _read_version()
