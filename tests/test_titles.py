"""Titles the model writes after a conversation's first exchange, in the background."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from backend.core.chat import ChatService, Reply
from backend.core.chat.titles import TITLE_OPTIONS, TitleWriter, clean_title
from backend.core.providers.ollama import OllamaClient
from backend.core.providers.registry import Endpoints


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ('"Quantum Cats: A Primer."', "Quantum Cats: A Primer"),
        ("Title: **Rayleigh scattering**", "Rayleigh scattering"),
        (
            "<think>Let me see.\nShort, then.</think>\n\n  Why the Sky Is Blue  \nMore",
            "Why the Sky Is Blue",
        ),
        ("# Packing for Iceland", "Packing for Iceland"),
        ("“Smart quotes” and «guillemets»", "Smart quotes and guillemets"),
        ("What's new in Python 3.13?", "What's new in Python 3.13?"),
        ("\n\n`sorted()` vs `list.sort()`\n", "sorted() vs list.sort()"),
        ("<think>never finished", ""),
        ('""', ""),
        (
            "A very long title that goes on and on about the many things we talked about today",
            "A very long title that goes on and on about the many things…",
        ),
        ("x" * 100, "x" * 59 + "…"),
    ],
)
def test_clean_title(raw, title):
    assert clean_title(raw) == title
    assert len(clean_title(raw)) <= 60


class Events:
    """The bus as the chat service sees it: a list, and a way to wait for a title."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []
        self._cond = threading.Condition()

    def __call__(self, topic: str, payload: dict) -> None:
        with self._cond:
            self.published.append((topic, payload))
            self._cond.notify_all()

    def titles(self) -> list[str]:
        return [
            p["title"] for t, p in self.published if t == "conversation.updated" and "title" in p
        ]


@pytest.fixture
def events():
    return Events()


@pytest.fixture
def chat(store, fake_ollama, events):
    service = ChatService(store, OllamaClient(fake_ollama.url), publish=events, auto_title=True)
    yield service
    service.shutdown()


def title_requests(fake) -> list[dict]:
    return [r for r in fake.chat_requests if r["stream"] is False]


def exchange(chat, conversation_id, content) -> list[dict]:
    frames = list(chat.send(conversation_id, content, model="llama3.2", auto_title=True).frames())
    assert frames[-1]["type"] == "complete"
    assert chat.titles.wait(5)
    return frames


def test_the_first_exchange_gets_a_title_from_the_model(chat, store, fake_ollama, events):
    fake_ollama.title_reply = '"Why the Sky Is Blue."'
    start = exchange(chat, None, "Why is the sky blue?")[0]
    cid = start["conversation_id"]
    conversation = store.get_conversation(cid)
    assert conversation["title"] == "Why the Sky Is Blue"
    assert events.titles() == ["Why the Sky Is Blue"]
    [asked] = title_requests(fake_ollama)
    assert asked["model"] == "llama3.2" and asked["options"] == TITLE_OPTIONS
    assert asked["think"] is False  # a reasoning model would spend the budget thinking
    assert "Why is the sky blue?" in asked["messages"][-1]["content"]
    assert "Rayleigh" in asked["messages"][-1]["content"]  # the answer is in the prompt too
    # A new title is no news in the chat: the conversation does not move up the list.
    assert conversation["updated_at"] == conversation["messages"][-1]["created_at"]
    exchange(chat, cid, "And at sunset?")
    assert len(title_requests(fake_ollama)) == 1  # the first exchange only


def test_an_untitled_conversation_from_the_api_gets_one_too(chat, store, fake_ollama):
    conversation = store.create_conversation(model="llama3.2")
    fake_ollama.title_reply = "Greetings"
    exchange(chat, conversation["id"], "hello")
    assert store.get_conversation(conversation["id"])["title"] == "Greetings"


def test_a_title_the_user_chose_is_never_replaced(chat, store, fake_ollama, events):
    conversation = store.create_conversation(title="My trip", model="llama3.2")
    fake_ollama.title_reply = "Something else"
    exchange(chat, conversation["id"], "hello")
    assert store.get_conversation(conversation["id"])["title"] == "My trip"
    assert title_requests(fake_ollama) == [] and events.titles() == []


def test_renaming_while_the_title_is_written_wins(chat, store, fake_ollama, events):
    fake_ollama.title_reply = "Generated"
    fake_ollama.token_count, fake_ollama.token_delay = 20, 0.01  # the title takes ~0.2 s too
    frames = list(chat.send(None, "hello", model="llama3.2", auto_title=True).frames())
    deadline = time.monotonic() + 5
    while not title_requests(fake_ollama) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert title_requests(fake_ollama), "the title should have been asked for"
    cid = frames[0]["conversation_id"]
    store.update_conversation(cid, title="Mine")  # while Ollama is still writing the title
    assert chat.titles.wait(5)
    assert store.get_conversation(cid)["title"] == "Mine"
    assert events.titles() == []


def test_an_unusable_answer_keeps_the_first_message_title(chat, store, fake_ollama, events):
    fake_ollama.title_reply = "<think>Hmm, what would fit"
    start = exchange(chat, None, "Plan a picnic")[0]
    assert store.get_conversation(start["conversation_id"])["title"] == "Plan a picnic"
    assert len(title_requests(fake_ollama)) == 1 and events.titles() == []


def test_a_failed_or_cancelled_reply_gets_no_title(chat, store, fake_ollama):
    fake_ollama.error_after = 3
    frames = list(chat.send(None, "hello", model="llama3.2", auto_title=True).frames())
    assert frames[-1]["type"] == "error"
    assert chat.titles.wait(5)
    assert title_requests(fake_ollama) == []


def _refused_url() -> str:
    """A loopback port with nothing listening: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_ollama_failing_leaves_the_title(store, events):
    conversation = store.create_conversation(title="hello", model="llama3.2")
    user = store.add_message(conversation["id"], "user", "hello")
    answer = store.add_message(conversation["id"], "assistant", "Hi there")
    reply = Reply(
        request_id=None,
        conversation_id=conversation["id"],
        user_message_id=user["id"],
        message_id=answer["id"],
        model="llama3.2",
    )
    writer = TitleWriter(store, Endpoints(OllamaClient(_refused_url())), events)
    writer.after_reply(reply, {"type": "complete"})
    assert writer.wait(5)
    assert store.get_conversation(conversation["id"])["title"] == "hello"
    assert events.published == []


def test_titles_are_off_unless_asked_for(store, fake_ollama):
    service = ChatService(store, OllamaClient(fake_ollama.url))
    assert service.titles is None
    frames = list(service.send(None, "hello", model="llama3.2", auto_title=True).frames())
    assert frames[-1]["type"] == "complete"
    service.shutdown()
    assert title_requests(fake_ollama) == []


def test_no_title_is_asked_for_unless_the_client_wants_one(chat, store, fake_ollama):
    fake_ollama.title_reply = "Unwanted"
    frames = list(chat.send(None, "plain API use", model="llama3.2").frames())
    assert chat.titles.wait(5)
    assert title_requests(fake_ollama) == []
    assert store.get_conversation(frames[0]["conversation_id"])["title"] == "plain API use"
