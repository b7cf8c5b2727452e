"""Every event topic on the app's bus, in one place.

Topics are dotted; a socket subscribes to groups of them by prefix (`conversation.`,
`models.`, `settings.`, `remote.`), so a new topic joins its group by its name alone.
"""

from __future__ import annotations

STATUS = "status"  # the connection monitor's state; every socket gets it

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_DELETED = "conversation.deleted"
CONVERSATION_IMPORTED = "conversation.imported"
CONVERSATION_EVENTS = "conversation."

MODELS_CHANGED = "models.changed"
MODELS_EVENTS = "models."

SETTINGS_CHANGED = "settings.changed"
SETTINGS_EVENTS = "settings."

# An added endpoint's STATUS changed ({"endpoint_id", …STATUS}); endpoints were added,
# changed or removed ({"endpoint_id"}).
ENDPOINT_STATUS = "endpoint.status"
ENDPOINT_CHANGED = "endpoint.changed"
ENDPOINT_EVENTS = "endpoint."

REMOTE_CHANGED = "remote.changed"  # remote access's status: GET /api/remote's answer
REMOTE_EVENTS = "remote."

# In-process only (their payloads hold live objects): no socket is ever sent these.
REPLY_STARTED = "reply.started"  # {"conversation_id": ID, "reply": Reply}
APP_SHOW = "app.show"  # {"new_chat": bool}: a second launch asks for the window
