"""Which search hits are on a version of a conversation that is not shown.

A conversation shows one path, root to its active leaf (see `tree.py`): the stored
`active_leaf_id`, or the newest message when that is unset or gone. A hit is shown when it
is on that path. One query answers for a whole page of hits: it walks up from each
conversation's leaf, and only as far as the hit's position (positions rise along every
path), so the walk is as short as the number of messages after the hit.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_WALK = """
WITH RECURSIVE hits(hit, cid) AS (VALUES {values}),
seeds AS (
    SELECT h.hit, (SELECT position FROM messages WHERE id = h.hit) AS floor,
           coalesce(
               (SELECT m.id FROM messages AS m
                WHERE m.id = c.active_leaf_id AND m.conversation_id = c.id),
               (SELECT m.id FROM messages AS m
                WHERE m.conversation_id = c.id ORDER BY m.position DESC LIMIT 1)
           ) AS leaf
    FROM hits AS h JOIN conversations AS c ON c.id = h.cid
),
up(hit, floor, id, parent_id) AS (
    SELECT s.hit, s.floor, m.id, m.parent_id FROM seeds AS s JOIN messages AS m ON m.id = s.leaf
    UNION ALL
    SELECT up.hit, up.floor, m.id, m.parent_id
    FROM up JOIN messages AS m ON m.id = up.parent_id
    WHERE up.id != up.hit AND m.position >= up.floor
)
SELECT hit FROM up WHERE id = hit
"""


CHUNK = 400  # hits per query: two parameters each, well under SQLite's oldest limit (999)


def hidden_hits(session: Session, hits: dict[str, str]) -> set[str]:
    """The message ids of `hits` ({message id: conversation id}) not on their shown path."""
    pairs = list(hits.items())
    shown: set[str] = set()
    for begin in range(0, len(pairs), CHUNK):
        chunk = pairs[begin : begin + CHUNK]
        values = ", ".join(f"(:h{i}, :c{i})" for i in range(len(chunk)))
        params = {}
        for i, (message_id, conversation_id) in enumerate(chunk):
            params[f"h{i}"] = message_id
            params[f"c{i}"] = conversation_id
        shown.update(session.scalars(text(_WALK.format(values=values)), params))
    return set(hits) - shown
