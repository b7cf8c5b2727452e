"""JSON response bodies written by orjson: opening a 2,000-message conversation is about
1 MB of JSON, ~6 ms with the standard library (keys sorted) and ~1 ms with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_COMPACT = {"separators": (",", ":")}  # what Flask's `response()` asks for outside debug
# Dates and dataclasses go to Flask's `default`, which writes them its own way.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONProvider(DefaultJSONProvider):
    """Flask's provider, with orjson for the compact dumps behind every JSON response.

    Keys keep their insertion order and text is written as UTF-8 instead of `\\u` escapes;
    both are the same JSON to any reader. A non-finite float becomes `null` where json
    wrote `Infinity` or `NaN`, which are not JSON (a browser's JSON.parse refuses them).
    Anything orjson will not write (a lone surrogate, an integer beyond 64 bits, a type
    not even Flask's `default` knows) is written by Flask's own provider, as before.
    """

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs or kwargs == _COMPACT:
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except TypeError:
                pass
        return super().dumps(obj, **kwargs)
