"""The streaming core: store the user's message, stream Ollama's reply, store it as it goes.

Messages form a tree: `send` continues the active path, `regenerate` and `edit` add an
alternative beside an existing message, `continue_reply` carries on a reply that stopped
early, in the same message. One reply streams per conversation at a time; switching or
deleting branches waits for it too (`Busy`).

Over 300 lines: the four ways to start a reply (send, regenerate, edit, continue) share
their checks and bookkeeping here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar, Unpack

from backend.core.chat.context import ContextWindows
from backend.core.chat.history import build_messages, title_from
from backend.core.chat.in_flight import InFlight
from backend.core.chat.models import ModelCatalog
from backend.core.chat.reply import CHUNK_INTERVAL_S, Reply
from backend.core.chat.runner import ReplyPlan, ReplyRunner, error_frame
from backend.core.chat.titles import TitleWriter
from backend.core.chat.vision import VisionCheck
from backend.core.errors import BadRequest, NotFound
from backend.core.json_text import utf8_size
from backend.core.providers.base import Provider
from backend.core.providers.registry import Endpoints
from backend.core.settings import MAX_CONTENT_BYTES
from backend.core.store.images import checked_ids
from backend.core.store.store import Store
from backend.core.store.validation import check_options
from backend.core.topics import CONVERSATION_CREATED, CONVERSATION_UPDATED, REPLY_STARTED

T = TypeVar("T")


class ReplySettings(TypedDict, total=False):
    """The per-message settings every way of starting a reply takes."""

    model: str | None
    options: dict | None
    think: bool | None
    request_id: str | None
    auto_title: bool
    endpoint_id: str | None


class ChatService:
    """Starts replies, one thread each, and keeps track of those in flight."""

    def __init__(
        self,
        store: Store,
        endpoints: Endpoints | Provider,
        *,
        persist_interval_s: float = 0.25,
        chunk_interval_s: float = CHUNK_INTERVAL_S,
        max_content_bytes: int = MAX_CONTENT_BYTES,
        clock: Callable[[], float] = time.monotonic,
        on_ollama_failure: Callable[[], None] | None = None,
        publish: Callable[[str, dict], None] | None = None,
        default_model: Callable[[], str | None] | None = None,
        context_window: Callable[[], int | None] = lambda: None,
        auto_title: bool = False,
    ) -> None:
        self.store = store
        # Replies find their provider here when they start (a lone provider: the default).
        self.endpoints = endpoints if isinstance(endpoints, Endpoints) else Endpoints(endpoints)
        self.models = ModelCatalog(self.endpoints)
        self.windows = ContextWindows(fallback=context_window)
        self._runner = ReplyRunner(
            store,
            self.endpoints,
            self.windows,
            persist_interval_s=persist_interval_s,
            clock=clock,
            on_ollama_failure=on_ollama_failure or (lambda: None),
        )
        self._max_content_bytes = max_content_bytes
        self._chunk_interval_s = chunk_interval_s
        self._clock = clock
        self._publish = publish or (lambda topic, payload: None)
        self._default_model = default_model or (lambda: None)
        # Titles written by the model after the first exchange (off: keep the first message's).
        self.titles = TitleWriter(store, self.endpoints, self._publish) if auto_title else None
        self._in_flight = InFlight(clock)
        self.vision = VisionCheck()

    # -- public API -----------------------------------------------------------------

    def send(
        self,
        conversation_id: str | None,
        content: str,
        model: str | None = None,
        options: dict | None = None,
        request_id: str | None = None,
        *,
        think: bool | None = None,
        auto_title: bool = False,
        endpoint_id: str | None = None,
        images: list[str] | None = None,
    ) -> Reply:
        """Store the user's message at the end of the active path and start the reply.

        With `auto_title`, a first exchange is followed by a model-written title: the UI
        asks for it; API scripts get no extra model calls they did not ask for. The reply
        goes to `endpoint_id`, else the conversation's endpoint (see `Endpoints.resolve`).
        """
        images = checked_ids(images) if images is not None else []
        content = self._checked_content(content, with_images=bool(images))
        options, think = check_options(options), _checked_think(think)
        conversation = (
            self.store.get_conversation(conversation_id, with_messages=False)
            if conversation_id is not None
            else None
        )
        self._in_flight.reserve(conversation_id)
        reserved = [conversation_id]
        try:
            endpoint = self.endpoints.resolve(endpoint_id, (conversation or {}).get("endpoint_id"))
            chosen = self.models.resolve(
                model or self._remembered_model(conversation, endpoint), endpoint
            )
            self._check_sees(endpoint, chosen, images, conversation and conversation["id"])
            conversation = self._conversation_for(conversation, content, chosen, reserved, endpoint)
            user = self.store.add_message(conversation["id"], "user", content, images=images)
            return self._start(
                conversation, user, chosen, options, think, request_id, auto_title=auto_title
            )
        except BaseException:
            self._in_flight.release(reserved[-1])
            raise

    def regenerate(self, message_id: str, **settings: Unpack[ReplySettings]) -> Reply:
        """A new reply to the same message, beside `message_id` (which stays as an alternative)."""
        return self._beside(message_id, "assistant", None, **settings)

    def edit(
        self,
        message_id: str,
        content: str,
        images: list[str] | None = None,
        **settings: Unpack[ReplySettings],
    ) -> Reply:
        """A changed copy of the user's message `message_id`, beside it, and a reply to it;
        with the original's images unless `images` (ids) says otherwise."""
        kept = self.store.image_ids(message_id) if images is None else checked_ids(images)
        content = self._checked_content(content, with_images=bool(kept))
        return self._beside(message_id, "user", content, images=kept, **settings)

    def continue_reply(
        self,
        message_id: str,
        *,
        options: dict | None = None,
        think: bool | None = None,
        request_id: str | None = None,
    ) -> Reply:
        """Ask the model that wrote `message_id` (a reply that stopped early with some text)
        to carry on from its text; the new text is appended to the same message."""
        options, think = check_options(options), _checked_think(think)
        cid = self.store.get_message(message_id)["conversation_id"]
        self._in_flight.reserve(cid)
        try:
            target = self.store.get_message(message_id)  # as it is now nothing else can run
            _check_continuable(target)
            conversation = self.store.get_conversation(cid, with_messages=False)
            # The model that wrote the text, on its own endpoint: never another one unasked.
            endpoint = target["endpoint_id"] or conversation["endpoint_id"]
            self.endpoints.get(endpoint)
            model = self.models.resolve(target["model"] or conversation.get("model"), endpoint)
            earlier = self.store.history(cid, before_message_id=message_id)
            self.store.resume_message(message_id)
            messages = self._model_messages(conversation, earlier)
            plan = ReplyPlan(
                endpoint_id=endpoint,
                model=model,
                messages=[*messages, {"role": "assistant", "content": target["content"]}],
                options=_merged(conversation, options),
                think=think if think is not None else conversation.get("think"),
                continues=True,
            )
            reply = Reply(
                request_id=request_id,
                conversation_id=cid,
                user_message_id=target["parent_id"],
                message_id=message_id,
                model=model,
                endpoint_id=endpoint,
                prefix=(target["content"], target["thinking"] or ""),
                chunk_interval_s=self._chunk_interval_s,
                clock=self._clock,
            )
            return self._launch(reply, plan)
        except BaseException:
            self._in_flight.release(cid)
            raise

    def activate(self, message_id: str) -> dict[str, Any]:
        """Show the branch through `message_id`; the conversation with its new path."""
        return self._while_idle(message_id, self.store.activate_message)

    def delete_message(self, message_id: str) -> dict[str, Any]:
        """Delete a message and everything below it; the conversation with its path."""
        return self._while_idle(message_id, self.store.delete_message)

    def cancel(self, message_id: str) -> Reply:
        """Stop a reply in flight; its final `cancelled` frame follows promptly."""
        reply = self._in_flight.get(message_id)
        if reply is None:
            raise NotFound(f"No reply in progress with id {message_id!r}")
        reply.stop()
        return reply

    def active(self, conversation_id: str | None = None) -> list[Reply]:
        return self._in_flight.replies(conversation_id)

    def exclusive(self, conversation_id: str, change: Callable[[], T], timeout: float = 5.0) -> T:
        """Run `change` (a delete) with the conversation reserved, its replies stopped."""
        return self._in_flight.exclusive(conversation_id, change, timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every reply in flight, keeping its text as `interrupted`, and wait for it."""
        replies = self._in_flight.close()
        if self.titles is not None:
            self.titles.close()
        for reply in replies:
            reply.stop("interrupted")
        deadline = self._clock() + timeout
        for reply in replies:
            reply.finished.wait(max(0.0, deadline - self._clock()))

    # -- starting a reply -------------------------------------------------------------

    def _checked_content(self, content: Any, *, with_images: bool = False) -> str:
        """The message's text; empty only beside images (a picture alone is a question)."""
        if not isinstance(content, str):
            raise BadRequest("`content` must be a string", code="invalid_field")
        size = utf8_size(content)
        if size is None:
            raise BadRequest("The message is not valid Unicode text", code="invalid_text")
        if size > self._max_content_bytes:
            raise BadRequest("The message is longer than 1 MiB", code="content_too_large")
        if not content.strip() and not with_images:
            raise BadRequest("The message is empty", code="empty_message")
        return content

    def _while_idle(self, message_id: str, change: Callable[[str], dict]) -> dict[str, Any]:
        """Change a conversation's tree while no reply streams in it (and none can start)."""
        cid = self.store.get_message(message_id)["conversation_id"]
        self._in_flight.reserve(cid)
        try:
            conversation = change(message_id)
        finally:
            self._in_flight.release(cid)
        self._publish(CONVERSATION_UPDATED, _without_messages(conversation))
        return conversation

    def _beside(
        self,
        message_id: str,
        role: str,
        content: str | None,
        *,
        model: str | None = None,
        options: dict | None = None,
        think: bool | None = None,
        request_id: str | None = None,
        auto_title: bool = False,
        endpoint_id: str | None = None,
        images: list[str] | None = None,
    ) -> Reply:
        """Start a reply on a new branch beside `message_id`: a regenerated reply (content
        None) or an edited user message (`content`, `images`) with its reply."""
        options, think = check_options(options), _checked_think(think)
        target = self.store.get_message(message_id)
        if target["role"] != role:
            raise BadRequest(_WRONG_ROLE[role], code="invalid_message")
        if content is None and target["parent_id"] is None:
            raise BadRequest("This reply answers no message", code="invalid_message")
        cid = target["conversation_id"]
        self._in_flight.reserve(cid)
        try:
            conversation = self.store.get_conversation(cid, with_messages=False)
            endpoint = self.endpoints.resolve(endpoint_id, (conversation or {}).get("endpoint_id"))
            remembered = self._remembered_model(conversation, endpoint)
            if endpoint == conversation["endpoint_id"]:
                remembered = conversation.get("model") or target["model"] or remembered
            chosen = self.models.resolve(model or remembered, endpoint)
            self._check_sees(endpoint, chosen, images or [], cid)
            conversation = self._conversation_for(conversation, None, chosen, [cid], endpoint)
            if content is None:
                user = self.store.get_message(target["parent_id"])
            else:
                parent = target["parent_id"]
                user = self.store.add_message(cid, "user", content, parent_id=parent, images=images)
            return self._start(
                conversation,
                user,
                chosen,
                options,
                think,
                request_id,
                message_id,
                auto_title=auto_title,
            )
        except BaseException:
            self._in_flight.release(cid)
            raise

    def _model_messages(self, conversation: dict, earlier: list[dict]) -> list[dict]:
        """What the model is sent: the system prompt and the turns, with their images."""
        images = self.store.image_bytes([m["id"] for m in earlier if m.get("images")])
        return build_messages(conversation.get("system_prompt"), earlier, images)

    def _check_sees(
        self, endpoint: str, model: str, images: list[str], conversation_id: str | None
    ) -> None:
        """Refuse, before anything is stored, images (new, or earlier in the conversation)
        for a model its server says cannot see."""
        if images or (conversation_id and self.store.has_images(conversation_id)):
            self.vision.refuse_if_blind(self.endpoints.get(endpoint), model)

    def _remembered_model(self, conversation: dict | None, endpoint: str) -> str | None:
        """The conversation's model if it is on `endpoint`, else the default model (which
        names an Ollama model, so only for the default endpoint)."""
        if conversation and conversation.get("endpoint_id") == endpoint:
            return conversation.get("model") or None
        return self._default_model() if endpoint == self.endpoints.default else None

    def _conversation_for(
        self,
        conversation: dict | None,
        content: str | None,
        model: str,
        reserved: list,
        endpoint: str,
    ) -> dict:
        if conversation is None:
            created = self.store.create_conversation(
                title=title_from(content or ""), model=model, endpoint_id=endpoint
            )
            self._in_flight.reserve(created["id"])
            reserved.append(created["id"])
            self._publish(CONVERSATION_CREATED, created)
            return created
        if (conversation.get("model"), conversation.get("endpoint_id")) != (model, endpoint):
            return self.store.update_conversation(
                conversation["id"], model=model, endpoint_id=endpoint
            )
        return conversation

    def _start(
        self,
        conversation: dict,
        user: dict,
        model: str,
        options: dict | None,
        think: bool | None,
        request_id: str | None,
        sibling_of: str | None = None,
        *,
        auto_title: bool = False,
    ) -> Reply:
        cid = conversation["id"]
        assistant = self.store.add_message(
            cid,
            "assistant",
            "",
            status="streaming",
            model=model,
            parent_id=user["id"],
            endpoint_id=conversation["endpoint_id"],
        )
        earlier = self.store.history(cid, before_message_id=assistant["id"])
        plan = ReplyPlan(
            endpoint_id=conversation["endpoint_id"],
            model=model,
            messages=self._model_messages(conversation, earlier),
            options=_merged(conversation, options),
            think=think if think is not None else conversation.get("think"),
        )
        reply = Reply(
            request_id=request_id,
            conversation_id=cid,
            user_message_id=user["id"],
            message_id=assistant["id"],
            model=model,
            user_parent_id=user["parent_id"],
            sibling_of=sibling_of,
            endpoint_id=plan.endpoint_id,
            auto_title=auto_title,
            chunk_interval_s=self._chunk_interval_s,
            clock=self._clock,
        )
        return self._launch(reply, plan)

    def _launch(self, reply: Reply, plan: ReplyPlan) -> Reply:
        """Run a reply on a thread of its own; readers follow it from now on."""
        cid = reply.conversation_id
        self._in_flight.register(reply)
        self._publish(REPLY_STARTED, {"conversation_id": cid, "reply": reply})  # for watchers
        threading.Thread(
            target=self._run, args=(reply, plan), name=f"reply-{reply.message_id[:8]}", daemon=True
        ).start()
        return reply

    # -- the reply thread ---------------------------------------------------------------

    def _run(self, reply: Reply, plan: ReplyPlan) -> None:
        # Should anything unexpected escape, readers still get a final frame, not a hang.
        final = error_frame(reply, "internal_error", "The reply failed unexpectedly")
        try:
            final = self._runner.run(reply, plan)
        finally:
            # Released before the final frame goes out, so the client may send again at once.
            self._in_flight.done(reply)
            reply.finish(final)
        self._publish(CONVERSATION_UPDATED, {"id": reply.conversation_id})
        if self.titles is not None and reply.auto_title:
            self.titles.after_reply(reply, final)


# Replies that stopped before their end; with some text, the model can carry it on.
_CONTINUABLE = {"cancelled", "interrupted", "error"}

_WRONG_ROLE = {
    "assistant": "Only a reply can be regenerated",
    "user": "Only your own messages can be edited",
}


def _check_continuable(message: dict[str, Any]) -> None:
    if message["role"] != "assistant" or message["parent_id"] is None:
        raise BadRequest("Only a reply can be continued", code="invalid_message")
    if message["status"] not in _CONTINUABLE or not message["content"].strip():
        raise BadRequest(
            "Only a reply that stopped early, with some text, can be continued",
            code="invalid_message",
        )


def _merged(conversation: dict[str, Any], options: dict | None) -> dict | None:
    """The message's own options win over the conversation's, key by key."""
    return {**(conversation.get("options") or {}), **(options or {})} or None


def _checked_think(think: Any) -> bool | None:
    if think is not None and not isinstance(think, bool):
        raise BadRequest("`think` must be true, false or null", code="invalid_field")
    return think


def _without_messages(conversation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in conversation.items() if k != "messages"}
