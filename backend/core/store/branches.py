"""Which search hits are on a version of a conversation that is not shown.

A conversation shows one path, root to its active leaf (see `tree.py`): the stored
`active_leaf_id`, or the newest message when that is unset or gone. A hit is shown when it
is on that path. One query reads, for a whole page of hits, each conversation's messages
from the hit's position on (positions rise along every path, so the path from the leaf
down to the hit lies among them); the walk up from the leaf is done here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

_AFTER_HITS = """
WITH hits(hit, cid) AS (VALUES {values}),
seeds AS MATERIALIZED (  -- once per hit, not once per row below
    SELECT h.hit, h.cid, (SELECT position FROM messages WHERE id = h.hit) AS floor,
           coalesce(
               (SELECT m.id FROM messages AS m
                WHERE m.id = c.active_leaf_id AND m.conversation_id = c.id),
               (SELECT m.id FROM messages AS m
                WHERE m.conversation_id = c.id ORDER BY m.position DESC LIMIT 1)
           ) AS leaf
    FROM hits AS h JOIN conversations AS c ON c.id = h.cid
)
SELECT s.hit, s.leaf, m.id, m.parent_id
FROM seeds AS s JOIN messages AS m ON m.conversation_id = s.cid AND m.position >= s.floor
"""
CHUNK = 400  # hits per query: two parameters each, well under SQLite's oldest limit (999)


def hidden_hits(session: Session, hits: dict[str, str]) -> set[str]:
    """The message ids of `hits` ({message id: conversation id}) not on their shown path."""
    pairs = list(hits.items())
    parents: dict[str, dict[str, str | None]] = {hit: {} for hit in hits}
    leaves: dict[str, str] = {}
    for begin in range(0, len(pairs), CHUNK):
        chunk = pairs[begin : begin + CHUNK]
        values = ", ".join(f"(:h{i}, :c{i})" for i in range(len(chunk)))
        params = {}
        for i, (message_id, conversation_id) in enumerate(chunk):
            params[f"h{i}"] = message_id
            params[f"c{i}"] = conversation_id
        # One range of rows per hit, read in index order (cheaper than a recursive query's
        # lookup per step), on the session's own connection and transaction, as plain
        # tuples: thousands of rows for a page of hits in long conversations.
        raw = session.connection().connection.driver_connection
        for hit, leaf, message_id, parent_id in raw.execute(
            _AFTER_HITS.format(values=values), params
        ):
            leaves[hit] = leaf
            parents[hit][message_id] = parent_id
    return {hit for hit in hits if not _on_path(hit, leaves.get(hit), parents[hit])}


def _on_path(hit: str, leaf: str | None, parents: dict[str, str | None]) -> bool:
    """Whether walking up from `leaf` through `parents` (the messages from the hit's
    position on) meets `hit`; a step count bounds the walk on a corrupt file."""
    node = leaf
    for _ in range(len(parents)):
        if node == hit:
            return True
        if node not in parents:
            return False
        node = parents[node]
    return node == hit
