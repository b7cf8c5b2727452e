"""Remote access over REST: its state, the relay setting, pairing and devices."""

from __future__ import annotations

from flask import Blueprint

from backend.web.bodies import json_object
from backend.web.context import remote_access as _remote

remote_api = Blueprint("remote_api", __name__, url_prefix="/api/remote")


@remote_api.get("")
def remote_status():
    return _remote().status()


@remote_api.patch("")
def set_relay():
    """`{"relay_url": URL|null}`: null turns remote access off."""
    return _remote().set_relay_url(json_object().get("relay_url"))


@remote_api.post("/pairings")
def create_pairing():
    return _remote().create_pairing(), 201


@remote_api.get("/devices")
def list_devices():
    return {"devices": _remote().devices()}


@remote_api.post("/devices/<device_id>/approve")
def approve_device(device_id: str):
    return _remote().approve(device_id)


@remote_api.delete("/devices/<device_id>")
def revoke_device(device_id: str):
    _remote().revoke(device_id)
    return "", 204
