"""Counters and gauges, exposed in Prometheus' text format at /metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

_HELP = {
    "relay_desktops_online": ("gauge", "Desktops connected and authenticated."),
    "relay_devices_connected": ("gauge", "Device connections open."),
    "relay_frames_total": ("counter", "Frames routed, by direction."),
    "relay_bytes_total": ("counter", "Payload bytes routed, by direction."),
    "relay_auth_failures_total": ("counter", "Desktop challenges answered wrongly or late."),
    "relay_closed_by_limit_total": ("counter", "Connections closed for exceeding a limit."),
}


class Metrics:
    def __init__(self, gauges: dict[str, Callable[[], int]]) -> None:
        self._gauges = gauges
        self._counters: Counter[tuple[str, str]] = Counter()

    def count(self, name: str, label: str = "", amount: int = 1) -> None:
        self._counters[(name, label)] += amount

    def value(self, name: str, label: str = "") -> int:
        return self._counters[(name, label)]

    def render(self) -> str:
        lines: list[str] = []
        for name, (kind, help_text) in _HELP.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            if name in self._gauges:
                lines.append(f"{name} {self._gauges[name]()}")
                continue
            samples = [
                (label, n) for (metric, label), n in self._counters.items() if metric == name
            ]
            for label, n in sorted(samples) or [("", 0)]:
                lines.append(f"{name}{_labels(name, label)} {n}")
        return "\n".join(lines) + "\n"


def _labels(name: str, label: str) -> str:
    if not label:
        return ""
    key = "reason" if name == "relay_closed_by_limit_total" else "direction"
    return f'{{{key}="{label}"}}'
