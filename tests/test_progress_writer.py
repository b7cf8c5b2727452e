"""ProgressWriter: a streaming reply's text is stored at most once per interval, writes
never overlap, and a slow write never brings the next one closer than the interval."""

from __future__ import annotations

import threading

import pytest

from backend.core.chat.progress import ProgressWriter


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowStore:
    """Records when each write starts; a write can be held until the test lets it go."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.starts: list[float] = []
        self.texts: list[str] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    def update_message(self, message_id: str, *, content: str, **fields) -> None:
        self.starts.append(self.clock())
        self.texts.append(content)
        self.entered.set()
        assert self.hold.wait(5)


def wait_idle(writer: ProgressWriter) -> None:
    with writer._cond:
        assert writer._cond.wait_for(lambda: not writer._running, 5)


def test_writes_start_at_least_an_interval_apart_even_after_a_slow_one():
    clock = ManualClock()
    store = SlowStore(clock)
    writer = ProgressWriter(store, "m1", 0.25, clock)
    writer.content.append("a")
    writer.maybe_flush()  # too soon: the reply has just started
    assert store.starts == []

    clock.now = 0.25
    store.hold.clear()
    writer.maybe_flush()
    assert store.entered.wait(5)  # the first write runs, and is slow
    for step in range(1, 6):  # 0.1 s steps while it runs: nothing else is handed over
        clock.now = 0.25 + step * 0.1
        writer.content.append("b")
        writer.maybe_flush()
    assert store.starts == [0.25]
    store.hold.set()
    wait_idle(writer)

    writer.content.append("c")
    clock.now = 0.75
    writer.maybe_flush()  # the slow write ended: an interval since it started has passed
    wait_idle(writer)
    clock.now = 0.9
    writer.content.append("d")
    writer.maybe_flush()  # 0.15 s after the last start: too soon
    wait_idle(writer)
    assert store.starts == [0.25, 0.75]
    assert store.texts == ["a", "abbbbbc"]

    writer.store_final(status="complete")
    assert store.texts[-1] == "abbbbbcd" and writer.writes == 3


def test_nothing_new_means_no_write():
    clock = ManualClock()
    store = SlowStore(clock)
    writer = ProgressWriter(store, "m1", 0.25, clock)
    writer.content.append("a")
    clock.now = 1.0
    writer.maybe_flush()
    wait_idle(writer)
    clock.now = 2.0
    writer.maybe_flush()
    wait_idle(writer)
    assert store.texts == ["a"]


def test_a_failed_write_is_raised_on_the_reply_thread():
    clock = ManualClock()

    class Broken(SlowStore):
        def update_message(self, message_id, **fields):
            raise OSError("disk full")

    writer = ProgressWriter(Broken(clock), "m1", 0.25, clock)
    writer.content.append("a")
    clock.now = 1.0
    writer.maybe_flush()
    wait_idle(writer)
    with pytest.raises(OSError, match="disk full"):
        writer.maybe_flush()


def test_every_progress_write_of_a_reply_runs_on_one_thread_of_its_own():
    clock = ManualClock()
    writers_seen: list[threading.Thread] = []

    class Recording(SlowStore):
        def update_message(self, message_id, **fields):
            writers_seen.append(threading.current_thread())

    writer = ProgressWriter(Recording(clock), "m1", 0.25, clock)
    for step in range(1, 6):
        writer.content.append(str(step))
        clock.now = step * 1.0
        writer.maybe_flush()
        wait_idle(writer)
    writer.store_final(status="complete")
    progress, final = writers_seen[:-1], writers_seen[-1]
    assert len(progress) == 5 and len(set(progress)) == 1
    assert progress[0] is not threading.current_thread()
    assert final is threading.current_thread()  # the final write is the caller's, and last
    assert not progress[0].is_alive()  # store_final ended the writer thread
