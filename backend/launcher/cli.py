"""The `cloudtolocalllm` command: flags to settings, then the chosen mode."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from backend import __version__
from backend.core.errors import AppError, BadRequest
from backend.core.remote.config import normalise_relay_url
from backend.core.settings import (
    Settings,
    SettingsError,
    default_data_dir,
    default_ollama_url,
    parse_ollama_host,
    prepare_data_dir,
)
from backend.launcher.logs import setup_logging
from backend.launcher.memory import settle_after_start
from backend.launcher.private_files import keep_new_files_private, tighten
from backend.launcher.quit_signals import block_quit_signals, wait_for_quit_signal
from backend.launcher.single_instance import (
    HandOverError,
    InstanceInfo,
    InstanceLock,
    ask_to_show,
    claim_or_find,
)

PROG = "cloudtolocalllm"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump, exit 2
        self.exit(2, f"{PROG}: error: {message}\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range 0-65535")
    return value


def _relay_url(text: str) -> str:
    try:
        return normalise_relay_url(text) or ""
    except BadRequest as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Chat privately with the models in your Ollama.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--web",
        dest="mode",
        action="store_const",
        const="web",
        help="open the UI in the default browser instead of a window",
    )
    mode.add_argument(
        "--headless",
        dest="mode",
        action="store_const",
        const="headless",
        help="run the backend only and print a JSON ready line",
    )
    for flag, help_text in (
        ("--self-test", "check this installation on a temporary data dir and exit 0 or 1"),
        ("--install-desktop-entry", "add the app and its icon to this user's Linux menu"),
        ("--uninstall-desktop-entry", "remove what --install-desktop-entry added"),
    ):
        mode.add_argument(
            flag,
            dest="action",
            action="store_const",
            const=flag[2:].replace("-", "_"),
            help=help_text,
        )
    parser.add_argument(
        "--new-chat",
        action="store_true",
        help="open a new chat (in the running app's window, if it is running)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port to bind (default: any free)")
    parser.add_argument(
        "--ollama-url", help="Ollama's address (default: $OLLAMA_HOST or http://127.0.0.1:11434)"
    )
    parser.add_argument(
        "--relay-url",
        type=_relay_url,
        help="relay for remote access from paired devices (default: the setting)",
    )
    parser.add_argument("--data-dir", type=Path, help="where conversations and logs are kept")
    parser.add_argument("--verbose", action="store_true", help="log more on stderr")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.set_defaults(mode="desktop", action=None)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    ollama_url = parse_ollama_host(args.ollama_url) if args.ollama_url else default_ollama_url()
    return Settings(
        mode=args.mode,
        host=args.host,
        port=args.port,
        ollama_url=ollama_url,
        ollama_url_given=bool(args.ollama_url or os.environ.get("OLLAMA_HOST", "").strip()),
        data_dir=args.data_dir if args.data_dir is not None else default_data_dir(),
        relay_url=args.relay_url,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        parser.error(str(exc))
    if args.new_chat and settings.mode == "headless":
        parser.error("--new-chat needs a window, and --headless has none")
    if args.action is not None:
        return run_action(args.action, settings)
    keep_new_files_private()
    try:
        data_dir = prepare_data_dir(settings.data_dir)
    except SettingsError as exc:
        return _fail(str(exc))
    tighten(data_dir)
    settings = Settings(**{**settings.__dict__, "data_dir": data_dir})
    setup_logging(settings.log_dir, verbose=args.verbose)
    lock = InstanceLock(data_dir)
    # One app per data dir: a second launch shows the first one's window instead.
    try:
        running = claim_or_find(lock)
    except HandOverError as exc:
        return _fail(str(exc))
    if running is not None:
        return hand_over(running, settings.mode, data_dir, new_chat=args.new_chat)
    try:
        return run(settings, lock)
    finally:
        lock.release()


def run(settings: Settings, lock: InstanceLock) -> int:
    """Start the backend and run the chosen mode until it is asked to stop."""
    from backend.launcher.runtime import Runtime  # heavy imports only once the arguments are good

    block_quit_signals()  # before the first thread starts: see backend/quit_signals.py

    try:
        runtime = Runtime(settings)
    except AppError as exc:
        return _fail(exc.message)
    except OSError as exc:
        # os.strerror: socket.create_server appends the address to the error's own text.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        return _fail(f"cannot listen on {settings.host}:{settings.port}: {reason}")

    def announce() -> None:
        announce_ready(runtime)
        info = InstanceInfo(os.getpid(), runtime.url, runtime.token, settings.mode)
        lock.publish(info)

    if settings.mode == "headless":
        return run_headless(runtime, announce)
    from backend.desktop.browser import run_web

    if settings.mode == "web":
        return run_web(runtime, announce)
    from backend.desktop.gui_probe import window_problem

    problem = window_problem()  # before Qt, which would abort the process instead
    if problem is not None:
        print(f"{PROG}: no window: {problem.message}; opening in the browser", file=sys.stderr)
        # Without a display there is no tray either: do not add a line saying so.
        return run_web(runtime, announce, with_tray=problem.kind != "display")
    from backend.desktop.app import run_desktop

    return run_desktop(runtime, announce=announce)


def hand_over(info: InstanceInfo, mode: str, where: Path, *, new_chat: bool = False) -> int:
    """Another app runs on this data dir: bring its window forward, or say why not."""
    if mode == "headless":
        return _fail(
            f"{PROG} is already running on {where} (pid {info.pid}, {info.url}); "
            "stop it or pass another --data-dir"
        )
    try:
        ask_to_show(info, new_chat=new_chat)
    except HandOverError as exc:
        return _fail(f"{PROG} is already running on {where} (pid {info.pid}) but {exc}")
    print(f"{PROG}: already running (pid {info.pid}); showing its window", file=sys.stderr)
    return 0


def run_action(action: str, settings: Settings) -> int:
    """The flags that do one thing and exit instead of running the app."""
    if action == "self_test":
        from backend.launcher.selftest import run_self_test

        return run_self_test(settings.ollama_url)
    if sys.platform in ("win32", "darwin"):
        return _fail("desktop entries are for Linux; the Windows and macOS builds have their own")
    from backend.desktop.integration import (
        IntegrationError,
        install_desktop_entry,
        uninstall_desktop_entry,
    )

    if action == "uninstall_desktop_entry":
        removed = uninstall_desktop_entry()
        print(f"Removed {len(removed)} files" if removed else "Nothing was installed")
        return 0
    try:
        installed = install_desktop_entry()
    except IntegrationError as exc:
        return _fail(str(exc))
    print(f"Installed {installed.desktop_file} and {len(installed.icons)} icons")
    return 0


def announce_ready(runtime) -> None:
    """The one JSON line on stdout that scripts wait for (in every mode)."""
    ready = {
        "event": "ready",
        "url": runtime.url,
        "open_url": runtime.page_url,  # opens the UI: `url` alone holds no key
        "port": runtime.server.port,
        "token": runtime.token,
        "pid": os.getpid(),
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    settle_after_start()


def run_headless(runtime, announce: Callable[[], None]) -> int:
    runtime.start()
    announce()
    wait_for_quit_signal()
    runtime.stop()
    return 0


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1
