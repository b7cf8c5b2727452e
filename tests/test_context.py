"""Fitting the history into the context window: estimates, trimming, num_ctx lookup."""

from __future__ import annotations

from backend.core.chat.context import (
    OLLAMA_DEFAULT_NUM_CTX,
    TOKENS_PER_MESSAGE,
    ContextWindows,
    estimate_tokens,
    fit,
    reply_room,
)
from backend.core.providers.ollama import OllamaClient
from backend.core.providers.ollama.client import context_length


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


def tokens_of(*messages: dict) -> int:
    return sum(TOKENS_PER_MESSAGE + estimate_tokens(m["content"]) for m in messages)


def test_estimate_counts_utf8_bytes_over_four():
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 400) == 100
    assert estimate_tokens("日本語の文") == 4  # 15 bytes: CJK is not under-counted as 5 / 4


def test_reply_room_is_a_quarter_or_num_predict_at_most_half():
    assert reply_room(4096, None) == 1024
    assert reply_room(4096, {"num_predict": 300}) == 300
    assert reply_room(4096, {"num_predict": 100_000}) == 2048
    assert reply_room(4096, {"num_predict": -1}) == 1024  # "no limit" reserves the default


def test_nothing_is_dropped_when_it_fits():
    history = [msg("system", "Be brief."), msg("user", "hi"), msg("assistant", "hello")]
    history.append(msg("user", "how are you?"))
    fitted = fit(history, 4096)
    assert fitted.messages == history
    assert fitted.frame_info() == {"dropped": 0, "num_ctx": 4096}


def test_oldest_turns_go_first_and_the_system_prompt_and_question_stay():
    system, question = msg("system", "S" * 40), msg("user", "Q" * 40)
    turns = [msg("user" if i % 2 == 0 else "assistant", f"{i}" * 400) for i in range(6)]
    history = [system, *turns, question]
    num_ctx = 400  # room for the reply: 100, so 300 tokens for the prompt
    fitted = fit(history, num_ctx)
    assert fitted.messages[0] == system and fitted.messages[-1] == question
    kept_turns = fitted.messages[1:-1]
    assert kept_turns == turns[-len(kept_turns) :]  # a suffix: only the oldest went
    assert fitted.dropped == len(turns) - len(kept_turns) > 0
    assert tokens_of(*fitted.messages) <= num_ctx - reply_room(num_ctx, None)
    assert kept_turns[0]["role"] == "user"  # no answer without its question


def test_an_answer_left_first_is_dropped_with_its_question():
    question = msg("user", "q" * 4)
    history = [msg("user", "u" * 1200), msg("assistant", "a" * 40), msg("user", "v" * 40), question]
    fitted = fit(history, 400)  # only the first message is too much, but its answer goes too
    assert fitted.messages == history[2:]
    assert fitted.dropped == 2


def test_system_prompt_and_question_stay_even_when_too_long():
    history = [msg("system", "s" * 4000), msg("user", "old"), msg("user", "q" * 4000)]
    fitted = fit(history, 512)
    assert fitted.messages == [history[0], history[2]]
    assert fitted.dropped == 1


def test_context_length_from_show():
    info = {"general.architecture": "llama", "llama.context_length": 131072}
    assert context_length({"model_info": info}) == 131072
    odd = {"general.architecture": "qwen3moe", "qwen3.context_length": 32768}
    assert context_length({"model_info": odd}) == 32768
    assert context_length({"model_info": {"general.architecture": "bert"}}) is None
    assert context_length({}) is None


def test_num_ctx_option_else_the_model_capped_at_ollamas_default(fake_ollama):
    windows, ollama = ContextWindows(), OllamaClient(fake_ollama.url)
    assert windows.num_ctx(ollama, "llama3.2", {"num_ctx": 8192}) == 8192
    assert [r["path"] for r in fake_ollama.requests] == []  # asked for nothing
    # The fake's models report 131072: Ollama would still run them with 4096.
    assert windows.num_ctx(ollama, "llama3.2", None) == OLLAMA_DEFAULT_NUM_CTX
    assert windows.num_ctx(ollama, "llama3.2:latest", {"temperature": 1}) == OLLAMA_DEFAULT_NUM_CTX
    shows = [r for r in fake_ollama.requests if r["path"] == "/api/show"]
    assert shows == [{"method": "POST", "path": "/api/show", "json": {"model": "llama3.2"}}]
    assert windows.trained(ollama, "llama3.2") == 131072


def test_a_model_unknown_to_show_uses_the_default_and_is_asked_again(fake_ollama):
    windows, ollama = ContextWindows(), OllamaClient(fake_ollama.url)
    assert windows.num_ctx(ollama, "ghost", None) == OLLAMA_DEFAULT_NUM_CTX
    assert windows.num_ctx(ollama, "ghost", None) == OLLAMA_DEFAULT_NUM_CTX
    shows = [r for r in fake_ollama.requests if r["path"] == "/api/show"]
    assert len(shows) == 2  # failures are not cached: the model may be pulled meanwhile


# Through the chat service: what Ollama is sent, and what the start frame says.


def test_start_frame_reports_the_window_and_show_is_asked_once(chat, fake_ollama):
    fake_ollama.tokens = ["ok"]
    first = list(chat.send(None, "hi", model="llama3.2").frames())[0]
    second = list(chat.send(first["conversation_id"], "again").frames())[0]
    for start in (first, second):
        assert start["context"] == {"dropped": 0, "num_ctx": 4096}
    assert len([r for r in fake_ollama.requests if r["path"] == "/api/show"]) == 1
    assert "options" not in fake_ollama.chat_requests[-1]  # Ollama's own default applies


def test_a_long_conversation_is_trimmed_to_num_ctx(chat, store, fake_ollama):
    conversation = store.create_conversation(
        model="llama3.2", system_prompt="Answer in French.", options={"num_ctx": 512}
    )
    cid = conversation["id"]
    fake_ollama.tokens = ["r" * 400]  # ~100 tokens per answer
    for n in range(6):
        frames = list(chat.send(cid, f"question {n} " + "q" * 400).frames())
        assert frames[-1]["type"] == "complete"
    start = frames[0]
    sent = fake_ollama.chat_requests[-1]
    assert sent["options"] == {"num_ctx": 512}
    assert start["context"]["num_ctx"] == 512 and start["context"]["dropped"] > 0
    messages = sent["messages"]
    assert messages[0] == {"role": "system", "content": "Answer in French."}
    assert messages[-1]["content"].startswith("question 5 ")
    assert messages[1]["role"] == "user"
    assert len(messages) == 1 + 11 - start["context"]["dropped"]  # system + 11 turns, less N
    assert sum(estimate_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in messages) <= 384
    # Nothing is lost: trimming only shapes what Ollama is sent.
    stored = store.get_conversation(cid)["messages"]
    assert len(stored) == 12
    # The reply keeps the trim it was written under, for the notice after a reload.
    assert stored[-1]["stats"]["context"] == start["context"]
    assert "context" not in (stored[1]["stats"] or {})  # the first answer saw everything


def test_a_message_num_ctx_overrides_the_conversations(chat, store, fake_ollama):
    conversation = store.create_conversation(model="llama3.2", options={"num_ctx": 512})
    fake_ollama.tokens = ["ok"]
    frames = list(chat.send(conversation["id"], "hi", options={"num_ctx": 2048}).frames())
    assert frames[0]["context"] == {"dropped": 0, "num_ctx": 2048}
    assert fake_ollama.chat_requests[-1]["options"] == {"num_ctx": 2048}


def test_ollama_down_still_gets_a_start_frame_with_the_default(chat, fake_ollama):
    fake_ollama.stop()
    frames = list(chat.send(None, "anyone?", model="llama3.2").frames())
    assert frames[0]["context"] == {"dropped": 0, "num_ctx": OLLAMA_DEFAULT_NUM_CTX}
    assert frames[-1]["code"] == "ollama_unavailable"


def test_a_hung_show_does_not_hold_the_reply_and_is_asked_again(fake_ollama):
    windows, ollama = ContextWindows(show_timeout_s=0.2), OllamaClient(fake_ollama.url)
    fake_ollama.show_delay = 3.0
    assert windows.trained(ollama, "llama3.2") is None  # gave up: the default window applies
    assert windows.num_ctx(ollama, "llama3.2", None) == OLLAMA_DEFAULT_NUM_CTX
    fake_ollama.show_delay = 0.0
    assert windows.trained(ollama, "llama3.2") == 131072  # not cached while unknown


def test_a_cancelled_trimmed_reply_keeps_the_trim_too(chat, store, fake_ollama):
    conversation = store.create_conversation(model="llama3.2", options={"num_ctx": 256})
    fake_ollama.tokens = ["r" * 400]
    list(chat.send(conversation["id"], "q" * 600).frames())
    fake_ollama.token_count, fake_ollama.token_delay = 200, 0.01
    handle = chat.send(conversation["id"], "and then?")
    frames = handle.frames()
    start = next(frames)
    assert start["context"]["dropped"] > 0
    chat.cancel(start["message_id"])
    assert list(frames)[-1]["type"] == "cancelled"
    reply = store.get_message(start["message_id"])
    assert reply["status"] == "cancelled" and reply["stats"] == {"context": start["context"]}
