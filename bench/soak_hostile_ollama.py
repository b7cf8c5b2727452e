"""Soak: the hostile-Ollama fuzz of tests/reliability/test_ollama_fuzz.py, for longer.

Thousands of generated chat streams (longer ones, and lines past the 4 MiB cap) through
one running app; after each, the same checks as the test: no internal error, the stored
final state is the final frame's, the app still answers. Prints the outcomes by final
frame, the rate, and the app's memory at the start and the end (a leak shows as growth).
Exits 1 with the smallest failing stream if one is found.

    python bench/soak_hostile_ollama.py [--examples 3000] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.app_process import HeadlessApp  # noqa: E402
from tests.fake_ollama import FakeOllama  # noqa: E402
from tests.reliability.hostile_streams import check_one, endless_lines, streams  # noqa: E402


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def soak(examples: int) -> int:
    outcomes: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="soak-hostile-") as tmp, FakeOllama() as fake:
        data = Path(tmp) / "data"
        app = HeadlessApp(["--ollama-url", fake.url, "--data-dir", str(data)], data).start()
        ws = app.ws()
        start_rss = rss_kib(app.pid, "VmRSS")

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(stream=st.one_of(streams(max_lines=40), streams(), endless_lines()))
        def run(stream) -> None:
            final = check_one(app, ws, fake, stream)
            outcomes[final["type"] + ("/" + final["code"] if "code" in final else "")] += 1

        began = time.monotonic()
        failed = 0
        try:
            run()
        except Exception as exc:  # the falsifying example: report it, as the test would
            print(f"FAILED: {exc!r}", file=sys.stderr)
            failed = 1
        elapsed = time.monotonic() - began
        end_rss, peak = rss_kib(app.pid, "VmRSS"), rss_kib(app.pid, "VmHWM")
        ws.close()
        app.stop()
    total = sum(outcomes.values())
    print(f"{total} streams in {elapsed:.1f} s ({total / max(elapsed, 1e-9):.1f}/s)")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:40} {count}")
    print(f"app RSS: {start_rss // 1024} MiB at start, {end_rss // 1024} MiB at end, "
          f"peak {peak // 1024} MiB")  # fmt: skip
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="300 streams")
    args = parser.parse_args()
    return soak(300 if args.quick else args.examples)


if __name__ == "__main__":
    sys.exit(main())
