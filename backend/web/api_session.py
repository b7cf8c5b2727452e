"""`POST /api/session/exchange`: a browser opened by `--web` trades its code for the token."""

from __future__ import annotations

from flask import Blueprint, current_app

from backend.core.errors import BadRequest
from backend.web.bodies import json_object
from backend.web.security import Unauthorized

session_api = Blueprint("session_api", __name__, url_prefix="/api/session")
CODES_KEY = "cloudtolocalllm.codes"  # app.extensions[CODES_KEY]: the app's LaunchCodes


@session_api.post("/exchange")
def exchange():
    """200 `{"token"}` for a live code, once; 401 for a used, expired or unknown one."""
    code = json_object().get("code")
    if not isinstance(code, str) or not code:
        raise BadRequest("`code` must be a non-empty string", code="invalid_field")
    if not current_app.extensions[CODES_KEY].redeem(code):
        raise Unauthorized("This launch code is used, expired or unknown", code="invalid_code")
    return {"token": current_app.config["TOKEN"]}
