"""A pull's speed and time left in the Models dialog: "—" until there is enough to go on,
then smoothed figures that do not jump with Ollama's bursty progress lines, counting only
bytes that came over the network. The meter is fed on a made-up clock in the page (so no
assertion depends on this machine's speed); the dialog is shown at 390 and 1920 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.test_ui_layout import AXE_RUN, DESKTOP, SCREENS, open_page, shot

pytestmark = [pytest.mark.browser, needs_chromium]

# Ollama's lines come every ~60 ms but in bursts: here three lines with nothing new, then
# one with the bytes of all four, at 10 MB/s overall. Readings taken once a line.
BURSTY_METER = """async () => {
  const { RateMeter, formatRate, formatTimeLeft } = await import('./js/pullrate.js');
  const meter = new RateMeter();
  const readings = [];
  let bytes = 0;
  meter.add(0, 0);
  for (let line = 1; line <= 200; line++) {  // 12 s
    if (line % 4 === 0) bytes += 4 * 600_000;  // 600 kB per 60 ms = 10 MB/s
    meter.add(bytes, line * 60);
    readings.push({ at: line * 60, rate: meter.rate(), text: formatRate(meter.rate()),
                    left: formatTimeLeft(meter.secondsFor(2_000_000_000 - bytes)) });
  }
  return readings;
}"""


@pytest.fixture
def page(browser, runtime):
    page = open_page(browser, runtime, DESKTOP, "dark")
    yield page
    page.context.close()


def test_speed_is_a_dash_first_then_steady_and_right(page):
    readings = page.evaluate(BURSTY_METER)
    early = [r for r in readings if r["at"] < 2000]
    assert {(r["rate"], r["text"], r["left"]) for r in early} == {(None, "— MB/s", "— left")}
    settled = [r["rate"] for r in readings if r["at"] >= 4000]
    assert all(9.0e6 <= rate <= 11.0e6 for rate in settled), (min(settled), max(settled))
    # Not jumping: from one line to the next the figure moves by under 5 %.
    steps = [abs(b - a) / a for a, b in zip(settled, settled[1:], strict=False)]
    assert max(steps) < 0.05
    assert readings[-1]["text"] == "10.0 MB/s"
    # 2 GB less the 120 MB in, at 10 MB/s: a little over three minutes.
    assert readings[-1]["left"] == "3 min left"


def test_waiting_before_the_first_byte_is_no_slow_speed(page):
    rate = page.evaluate(
        """async () => {
      const { RateMeter } = await import('./js/pullrate.js');
      const meter = new RateMeter();
      for (let t = 0; t <= 5000; t += 500) meter.add(0, t);  // the manifest, a slow start
      const before = meter.rate();
      for (let t = 5500; t <= 9000; t += 500) meter.add((t - 5000) * 4000, t);  // 4 MB/s
      return [before, meter.rate()];
    }"""
    )
    assert rate[0] is None
    assert 3.9e6 <= rate[1] <= 4.1e6


def test_layers_already_on_disk_do_not_count_as_speed(page):
    """Small layers Ollama has already report total == completed at once (see
    ollama-wire/pull_stream.ndjson); a resumed layer starts part-way."""
    found = page.evaluate(
        """async () => {
      const { Pulls } = await import('./js/pulls.js');
      let now = 0;
      performance.now = () => now;  // the page's clock, made up for this test
      const pulls = new Pulls({ api: { send: () => true }, router: { own() {}, release() {} },
                                onChange() {}, onFinished() {} });
      const { pull } = pulls.start('x');
      const line = (digest, total, completed) =>
        pulls.onFrame(pull, { type: 'models.pull.progress', status: 'pulling', digest, total,
                              completed });
      line('sha256:big', 1_000_000_000, 300_000_000);  // resumed: 300 MB were on disk
      for (now = 500; now <= 6000; now += 500) {
        line('sha256:big', 1_000_000_000, 300_000_000 + now * 2000);  // 2 MB/s
        line('sha256:cached' + now, 50_000_000, 50_000_000);  // 50 MB on disk, each time
      }
      return { rate: pull.rate, left: pull.secondsLeft, percent: pull.percent };
    }"""
    )
    assert 1.9e6 <= found["rate"] <= 2.1e6
    # 688 MB of the big layer still to come at 2 MB/s.
    assert 330 <= found["left"] <= 360
    assert found["percent"] > 30


@pytest.mark.parametrize(("screen", "scheme"), [SCREENS[1], SCREENS[3]])
def test_the_pull_card_shows_speed_and_time_left(browser, runtime, fake_ollama, screen, scheme):
    big = "b" * 64
    layer = {"status": "pulling bbbbbbbbbbbb", "digest": f"sha256:{big}", "total": 4_000_000_000}
    # 200 MB a line: the real figure depends on this machine; its form does not.
    fake_ollama.pull_lines = [
        {"status": "pulling manifest"},
        *({**layer, "completed": n * 200_000_000} for n in range(20)),
        {"status": "success"},
    ]
    fake_ollama.pull_delay = 0.3
    page = open_page(browser, runtime, screen, scheme)
    page.evaluate("window.__app.openModels()")
    page.get_by_test_id("pull-name").fill("mistral")
    page.get_by_test_id("pull-name").press("Enter")
    speed = page.get_by_test_id("pull-speed")
    left = page.get_by_test_id("pull-time-left")
    expect(speed).to_have_text("— MB/s")
    expect(left).to_have_text("— left")
    expect(speed).to_have_text(re.compile(r"^\d+(\.\d)? [KMG]B/s$"), timeout=15_000)
    expect(left).to_have_text(re.compile(r"^(\d+ s|\d+ min|\d+ h \d+ min) left$"))
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    shot(page, f"pull-speed-{screen['width']}-{scheme}")
    page.context.close()
