"""Logging: a rotating file in the data dir, warnings on stderr, nothing on stdout.

Lines say what changed state or failed, by id: never a message's text, nor the token.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILENAME = "cloudtolocalllm.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
# SQLAlchemy's errors quote the statement's bound values, which are message text.
_SQL_PARAMETERS = re.compile(r"^\[parameters: .*\]$", re.MULTILINE)


class RedactingFormatter(logging.Formatter):
    """Tracebacks without the values of failed SQL statements."""

    def formatException(self, ei) -> str:
        return _SQL_PARAMETERS.sub("[parameters: hidden]", super().formatException(ei))


class LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file. When it cannot be written (a full disk), one line on stderr
    says so, instead of logging's report that quotes the failed record and its causes."""

    _failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._failed:
            self._failed = True
            sys.stderr.write(f"cannot write the log {self.baseFilename}: {sys.exc_info()[1]}\n")


def setup_logging(
    log_dir: Path, *, verbose: bool = False, max_bytes: int = MAX_BYTES, backups: int = BACKUPS
) -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = LogFile(
        log_dir / LOG_FILENAME, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    file_handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    root.addHandler(file_handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    # Werkzeug logs request lines, and those carry the token: keep it to real problems.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    threading.excepthook = _log_thread_failure


def _log_thread_failure(args: threading.ExceptHookArgs) -> None:
    """A thread that dies of an error is logged (redacted), not dumped raw on stderr."""
    if issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("cloudtolocalllm").error("thread %s failed", name, exc_info=exc_info)
