"""How the fake servers carry on a reply from its text so far (an assistant prefill).

A real model, sent a history that ends with an assistant message, writes on from that
text: the fakes copy this by streaming only the part of their answer after the prefix
when their answer starts with it, so a continued reply ends as the whole answer. An answer
that does not start with the prefix is sent whole (a model carrying on in its own words).
"""

from __future__ import annotations


def assistant_prefix(messages: object) -> str | None:
    """The text of a final assistant message, or None when the history ends otherwise."""
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    last = messages[-1]
    if last.get("role") != "assistant" or not isinstance(last.get("content"), str):
        return None
    return last["content"]


def tokens_after(tokens: list[str], prefix: str) -> list[str]:
    """The tokens that follow `prefix` in the answer (a token split by it is cut)."""
    if not "".join(tokens).startswith(prefix):
        return list(tokens)
    consumed = 0
    for index, token in enumerate(tokens):
        if consumed + len(token) > len(prefix):
            rest = token[len(prefix) - consumed :]
            return [rest, *tokens[index + 1 :]]
        consumed += len(token)
    return []
