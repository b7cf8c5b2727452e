"""The README and docs/ agree with the code: flags, data-folder files, links, install command."""

from __future__ import annotations

import re

from backend.core.endpoints.keys import FILENAME as KEYS_FILENAME
from backend.core.endpoints.store import FILENAME as ENDPOINTS_FILENAME
from backend.core.settings import DB_FILENAME
from backend.desktop import geometry
from backend.launcher.cli import build_parser
from backend.launcher.single_instance import INFO_FILENAME, LOCK_FILENAME
from tests.app_process import REPO

README = (REPO / "README.md").read_text()
DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)")


def test_every_flag_is_in_the_readme():
    flags = {
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    missing = sorted(flag for flag in flags if not re.search(rf"{flag}(?![\w-])", README))
    assert missing == []


def test_the_readme_names_every_file_the_app_keeps_in_its_data_folder():
    for name in (DB_FILENAME, "settings.json", "logs/", LOCK_FILENAME, INFO_FILENAME):
        assert f"`{name}`" in README
    assert f"`{geometry.FILENAME}`" in README and "`webview/`" in README
    assert f"`{ENDPOINTS_FILENAME}`" in README and f"`{KEYS_FILENAME}`" in README


def test_links_in_the_readme_and_docs_name_files_in_the_repository():
    for page in [REPO / "README.md", *DOCS]:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a URL, not a file
            assert (page.parent / target).exists(), f"{page.name} links {target}"
        assert "../shared/" not in page.read_text(), f"{page.name} names a file outside"


def test_the_readme_install_command_is_one_line_running_install_sh():
    block = re.search(r"## Install and run\n.*?```bash\n(.*?)```", README, re.S)
    assert block is not None
    lines = block.group(1).strip().splitlines()
    assert lines == ["bash install.sh"] and (REPO / "install.sh").is_file()


def test_the_readme_says_untested_wherever_it_speaks_of_windows_or_macos():
    paragraphs = [part for part in README.split("\n\n") if re.search(r"Windows|macOS", part)]
    assert paragraphs and all("untested" in part for part in paragraphs)
