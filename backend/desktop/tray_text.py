"""The tray's words: the icon's tooltip and the menu's status line, from a STATUS dict."""

from __future__ import annotations

import math

APP_TITLE = "CloudToLocalLLM"
MAX_TOOLTIP_CHARS = 127  # Windows keeps a tray tooltip in a WCHAR[128] buffer
MAX_ERROR_CHARS = 60  # of an error message in the menu's status line


def tooltip_for(status: dict) -> str:
    """The icon's hover text, e.g. "CloudToLocalLLM — Connected to Ollama 0.13.0 at …".

    A status with a `name` (there are several endpoints) names its server instead of
    "Ollama": "Connected to LM Studio at 127.0.0.1:1234"."""
    state, where = status.get("state"), _host(status.get("endpoint"))
    server = status.get("name") or "Ollama"
    if state == "connected":
        version = status.get("version")
        text = (
            f"Connected to {server} {version} at {where}"
            if version
            else f"Connected to {server} at {where}"
        )
        if status.get("latency_ms") is not None:
            text += f" ({format_latency(status['latency_ms'])})"
    elif state == "connecting":
        text = f"Connecting to {where}…"
    elif state == "reconnecting":
        wait = _countdown(status.get("next_retry_s"))
        text = f"Reconnecting to {where} in {wait}" if wait else f"Reconnecting to {where}…"
    elif state == "disconnected":
        text = f"{server} isn't running at {where}"
    elif state == "error":
        error = status.get("error")
        text = f"Error from {where}: {error}" if error else f"Can't use {server} at {where}"
    else:
        text = f"Unknown status of {where}"
    return _clip(f"{APP_TITLE} — {text}", MAX_TOOLTIP_CHARS)


def status_line(status: dict) -> str:
    """The menu's disabled status line, e.g. "● Connected · 12 ms", or with several
    endpoints the one in use named first: "● LM Studio · Connected · 12 ms"."""
    name = status.get("name")
    mark, text = _state_words(status)
    if name and status.get("state") == "disconnected":
        return f"{mark} {name} isn't running"
    line = f"{mark} {name} · {text}" if name else f"{mark} {text}"
    return _clip(line, MAX_ERROR_CHARS) if status.get("state") == "error" else line


def _state_words(status: dict) -> tuple[str, str]:
    state = status.get("state")
    if state == "connected":
        latency = status.get("latency_ms")
        return "●", "Connected" + (f" · {format_latency(latency)}" if latency is not None else "")
    if state == "connecting":
        return "◐", "Connecting…"
    if state == "reconnecting":
        wait = _countdown(status.get("next_retry_s"))
        return "◐", f"Reconnecting in {wait}" if wait else "Reconnecting…"
    if state == "disconnected":
        return "○", "Ollama isn't running"
    if state == "error":
        error = status.get("error")
        return "○", f"Error: {error}" if error else "Connection error"
    return "○", "Status unknown"


REMOTE_LINES = {
    "connecting": "◐ Remote access: connecting…",
    "online": "● Remote access: online",
    "offline": "○ Remote access: relay unreachable",
}


def remote_line(state: str) -> str:
    """The menu's remote-access line, e.g. "● Remote access: online"."""
    return REMOTE_LINES.get(state, f"○ Remote access: {state}")


def format_latency(latency_ms: float) -> str:
    """Whole milliseconds; "<1 ms" rather than a misleading "0 ms"."""
    if latency_ms < 1:
        return "<1 ms"
    if latency_ms >= 1000:
        return f"{latency_ms / 1000:.1f} s"
    return f"{math.floor(latency_ms + 0.5)} ms"


def _countdown(seconds: float | None) -> str | None:
    # Rounded up: "in 0 s" while a wait is still pending would be wrong.
    return f"{math.ceil(seconds)} s" if seconds is not None and seconds > 0 else None


def _host(endpoint: str | None) -> str:
    text = (endpoint or "").strip()
    _, sep, rest = text.partition("://")
    return (rest if sep else text).rstrip("/") or "an unknown address"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # an error message may span lines; a tooltip may not
    return text if len(text) <= limit else text[: limit - 1] + "…"
