"""Shared helpers of the benchmarks: statistics, Markdown tables, the machine, the app.

Every benchmark runs from the repository root as `python bench/bench_X.py`; importing this
module puts the root on `sys.path` so that `backend` and `tests` import from the checkout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.app_process import HeadlessApp as TestsHeadlessApp  # noqa: E402  (needs REPO)

# -- statistics ---------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between the closest ranks; nan if empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> str:
    """`min–max` of the repeats: how noisy the figure was on this shared machine."""
    if not values:
        return "–"
    return f"{fmt(min(values))}–{fmt(max(values))}"


def fmt(value: float | int | str | None, digits: int = 3) -> str:
    """A number with `digits` significant digits (integers above that kept whole)."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:  # nan
        return "–"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds per call of `fn`, `repeat` times."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def verdict(value: float, target: float, *, higher_is_better: bool = False) -> str:
    if value != value:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "meets" if ok else "MISSES"


# -- output -------------------------------------------------------------------------


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table under a bold title, ready to paste into bench/README.md."""
    cells = [[fmt(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(items: Sequence[str]) -> str:
        return "| " + " | ".join(s.ljust(w) for s, w in zip(items, widths, strict=True)) + " |"

    out = [f"**{title}**", "", line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells]
    text = "\n".join(out) + "\n"
    print(text, flush=True)
    return text


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def print_machine() -> dict[str, Any]:
    info = machine()
    print(
        f"{info['date']} · nproc {info['nproc']} · {info['cpu']} · Python {info['python']} · "
        f"SQLite {info['sqlite']} · load average {info['load']}\n",
        flush=True,
    )
    return info


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a smaller, faster run")
    p.add_argument("--json", type=Path, help="also write the raw results to this file")
    return p


def save_json(path: Path | None, results: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps({"machine": machine(), **results}, indent=2, default=str))
        print(f"raw results written to {path}")


def reader_bench_main(
    doc: str,
    readers: dict[str, Callable[[str, int], dict[str, Any]]],
    sizes: tuple[tuple[int, int], tuple[int, int]],
    measure: Callable[[int, int], dict[str, list[dict[str, Any]]]],
    report: Callable[[dict[str, list[dict[str, Any]]], int], None],
) -> None:
    """The main of a bench whose readers each run in a process of their own: invoked as
    `--reader KIND TARGET TOKENS` it is one reader (printing its JSON); else it measures
    `sizes` = ((quick tokens, repeats), (full tokens, repeats)) and reports."""
    if len(sys.argv) == 5 and sys.argv[1] == "--reader":
        print(json.dumps(readers[sys.argv[2]](sys.argv[3], int(sys.argv[4]))))
        return
    args = parser(doc.split("\n\n")[0]).parse_args()
    print_machine()
    tokens, repeat = sizes[0] if args.quick else sizes[1]
    runs = measure(tokens, repeat)
    report(runs, tokens)
    save_json(args.json, {"tokens": tokens, "runs": runs})


# -- the app as a process -----------------------------------------------------------


def isolated_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with every per-user directory moved into `home` (a temp dir)."""
    env = dict(os.environ)
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        path = home / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env.pop("OLLAMA_HOST", None)
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


class HeadlessApp(TestsHeadlessApp):
    """The tests' headless app with every per-user directory in a temp home of its own
    (removed at stop), and `ready_s`: process start to the ready line."""

    def __init__(self, ollama_url: str, data_dir: Path, *, python_flags: Sequence[str] = ()):
        self._home = Path(tempfile.mkdtemp(prefix="bench-home-"))
        args = ["--ollama-url", ollama_url, "--data-dir", str(data_dir)]
        env = isolated_env(self._home)
        super().__init__(args, data_dir, env, python_flags=list(python_flags))
        self.stderr_path = self._home / "stderr.txt"
        self.ready_s = float("nan")
        self._stderr_kept = ""

    def start(self, timeout: float = 30.0) -> HeadlessApp:
        started = time.perf_counter()
        try:
            super().start(timeout)
        except BaseException:
            shutil.rmtree(self._home, ignore_errors=True)  # a failed start never stops
            raise
        self.ready_s = time.perf_counter() - started
        return self

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM (peak RSS) and friends from /proc/PID/status, in KiB."""
        return proc_status(self.pid)

    def stderr(self) -> str:
        return super().stderr() or self._stderr_kept

    def stop(self, timeout: float = 15.0) -> int:
        try:
            return super().stop(timeout)
        finally:
            self._stderr_kept = self.stderr()  # readable after its home is gone
            shutil.rmtree(self._home, ignore_errors=True)


def proc_status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            values[key] = int(rest.split()[0])
    return values


def loaded_libraries(pid: int) -> set[str]:
    """Shared objects mapped into the process (to spot Qt in the headless backend)."""
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if path.startswith("/"):
            names.add(Path(path).name)
    return names


def run_json(cmd: Sequence[str], timeout: float = 600.0) -> dict[str, Any]:
    """Run a helper that prints one JSON object on its last stdout line."""
    done = subprocess.run(
        list(cmd), cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"{cmd[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
