"""The `cloudtolocalllm` command: flags to settings, then the chosen mode."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from backend import __version__
from backend.errors import AppError
from backend.logs import setup_logging
from backend.settings import (
    Settings,
    SettingsError,
    default_data_dir,
    default_ollama_url,
    parse_ollama_host,
    prepare_data_dir,
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
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port to bind (default: any free)")
    parser.add_argument(
        "--ollama-url", help="Ollama's address (default: $OLLAMA_HOST or http://127.0.0.1:11434)"
    )
    parser.add_argument("--data-dir", type=Path, help="where conversations and logs are kept")
    parser.add_argument("--verbose", action="store_true", help="log more on stderr")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.set_defaults(mode="desktop")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    ollama_url = parse_ollama_host(args.ollama_url) if args.ollama_url else default_ollama_url()
    return Settings(
        mode=args.mode,
        host=args.host,
        port=args.port,
        ollama_url=ollama_url,
        data_dir=args.data_dir if args.data_dir is not None else default_data_dir(),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        parser.error(str(exc))
    try:
        data_dir = prepare_data_dir(settings.data_dir)
    except SettingsError as exc:
        return _fail(str(exc))
    settings = Settings(**{**settings.__dict__, "data_dir": data_dir})
    setup_logging(settings.log_dir, verbose=args.verbose)
    from backend.runtime import Runtime  # heavy imports only once the arguments are good

    if settings.mode == "desktop":
        from backend.desktop.app import block_quit_signals

        block_quit_signals()

    try:
        runtime = Runtime(settings)
    except AppError as exc:
        return _fail(exc.message)
    except OSError as exc:
        return _fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    if settings.mode == "headless":
        return run_headless(runtime)
    if settings.mode == "web":
        return run_web(runtime)
    from backend.desktop.app import run_desktop

    return run_desktop(runtime, announce=lambda: announce_ready(runtime))


def announce_ready(runtime) -> None:
    """The one JSON line on stdout that scripts wait for (in every mode)."""
    ready = {
        "event": "ready",
        "url": runtime.url,
        "port": runtime.server.port,
        "token": runtime.token,
        "pid": os.getpid(),
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()


def run_headless(runtime) -> int:
    stop = _stop_on_signals()
    runtime.start()
    announce_ready(runtime)
    stop.wait()
    runtime.stop()
    return 0


def run_web(runtime) -> int:
    import webbrowser

    stop = _stop_on_signals()
    runtime.start()
    announce_ready(runtime)
    if not webbrowser.open(runtime.page_url):
        print(f"Open {runtime.page_url} in your browser", file=sys.stderr)
    stop.wait()
    runtime.stop()
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    return stop


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1
