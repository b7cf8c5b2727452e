"""Short titles written by the model after a conversation's first exchange.

The conversation starts titled after its first message (`history.title_from`); once the
first reply is complete, a background thread asks the same model for a better title. It
never delays a reply, and it gives way to the user: a conversation the user has renamed
(or titled themselves) keeps its title. Any failure leaves the first-message title.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from backend.core.chat.history import title_from
from backend.core.chat.reply import Reply
from backend.core.errors import AppError
from backend.core.providers.registry import Endpoints
from backend.core.store.store import DEFAULT_TITLE, Store
from backend.core.topics import CONVERSATION_UPDATED

log = logging.getLogger("cloudtolocalllm.titles")

TITLE_CHARS = 60
_EXCERPT_CHARS = 1500  # of each message in the prompt: the gist is at the start
# Low temperature: a title should be plain, not creative. A short answer is all we use,
# and the cap keeps a rambling model from holding Ollama for long. A reasoning model is
# told not to think (`think: false`): its thoughts would spend the whole budget before
# the title (a model that cannot think accepts `false` and ignores it).
TITLE_OPTIONS = {"temperature": 0.2, "num_predict": 60}
_PROMPT = (
    "Write a short title (at most 6 words) for the conversation below, in the language the "
    "user writes in. Answer with the title only: no quotes, no preamble, no punctuation at "
    "the end.\n\nUser: {question}\n\nAssistant: {answer}"
)
_THINK_BLOCK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^(title|titel|titre|título|titolo)\s*[:：]\s*", re.IGNORECASE)
_QUOTES = '"“”„«»「」『』'
_EDGE_CHARS = " \t#>*_`'‘’-–—:" + _QUOTES


def clean_title(raw: str) -> str:
    """One line, no quotes or Markdown, at most 60 characters; "" if nothing usable."""
    text = _THINK_BLOCK.sub("", raw)
    line = next((ln for ln in text.splitlines() if ln.strip(_EDGE_CHARS)), "")
    line = _LABEL.sub("", line.strip(_EDGE_CHARS))
    line = re.sub(r"\*\*|__|`", "", line)
    line = line.translate({ord(q): None for q in _QUOTES})
    line = re.sub(r"\s+", " ", line).strip(_EDGE_CHARS).rstrip(" .,;:")
    if len(line) <= TITLE_CHARS:
        return line
    room = TITLE_CHARS - 1  # and the ellipsis
    cut = line[: room + 1].rsplit(" ", 1)[0]  # whole words only
    if not room // 2 <= len(cut) <= room:  # no space, or one very long word: cut inside
        cut = line[:room]
    return cut.rstrip(" ,.;:-") + "…"


def is_automatic(title: str, first_message: str) -> bool:
    """Whether a title is one the app chose (so a better one may replace it)."""
    return title in (DEFAULT_TITLE, title_from(first_message))


class TitleWriter:
    """Titles conversations in daemon threads, one per finished first exchange."""

    def __init__(
        self,
        store: Store,
        endpoints: Endpoints,
        publish: Callable[[str, dict], None],
    ) -> None:
        self.store = store
        self._endpoints = endpoints
        self._publish = publish
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def after_reply(self, reply: Reply, final: dict) -> None:
        """Called once a reply's final frame is out; starts a title if this was the first."""
        if final.get("type") != "complete" or reply.user_parent_id is not None:
            return
        thread = threading.Thread(
            target=self._title, args=(reply,), name=f"title-{reply.conversation_id[:8]}"
        )
        thread.daemon = True
        with self._lock:
            if self._closed:
                return
            thread.start()  # under the lock, so wait() never finds it unstarted
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def close(self) -> None:
        """No more titles: those in flight do not write."""
        with self._lock:
            self._closed = True

    def wait(self, timeout: float) -> bool:
        """Wait for titles in flight; True if none is left."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)

    def _title(self, reply: Reply) -> None:
        try:
            conversation = self.store.get_conversation(reply.conversation_id, with_messages=False)
            question = self.store.get_message(reply.user_message_id)["content"]
            if not is_automatic(conversation["title"], question):
                return
            answer = self.store.get_message(reply.message_id)["content"]
            title = self._ask(reply.endpoint_id, reply.model, question, answer)
            if not title or title == conversation["title"] or self._closed:
                return
            updated = self.store.set_title_if(reply.conversation_id, conversation["title"], title)
        except AppError as exc:  # Ollama down, model gone, conversation deleted meanwhile
            log.info("no title for %s: %s", reply.conversation_id, exc.message)
            return
        if updated is not None:
            self._publish(CONVERSATION_UPDATED, updated)

    def _ask(self, endpoint_id: str, model: str, question: str, answer: str) -> str:
        prompt = _PROMPT.format(question=question[:_EXCERPT_CHARS], answer=answer[:_EXCERPT_CHARS])
        raw = self._endpoints.get(endpoint_id).chat(
            model, [{"role": "user", "content": prompt}], TITLE_OPTIONS, think=False
        )
        return clean_title(raw)
