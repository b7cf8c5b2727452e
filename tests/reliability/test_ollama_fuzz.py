"""A hostile-Ollama fuzz: generated chat streams (see hostile_streams.py) drive the real
app; after each, no internal error, the stored final state is the final frame's, and the
app still answers. More examples: bench/soak_hostile_ollama.py."""

from __future__ import annotations

from hypothesis import given, settings

from tests.raw_chat import RawChat
from tests.reliability.fuzz import FUZZ
from tests.reliability.hostile_streams import check_one, streams

EXAMPLES = 300  # ~20-40 s here; the soak script runs thousands


@settings(FUZZ, max_examples=EXAMPLES)
@given(stream=streams())
def test_any_stream_from_ollama_ends_in_a_stored_final_state(hostile, stream: RawChat):
    app, ws, fake = hostile
    check_one(app, ws, fake, stream)
