"""The web edge: the Flask app with the REST API, the WebSocket and the frontend."""

from __future__ import annotations

import mimetypes

from flask import Flask, request, send_from_directory
from flask_sock import Sock

from backend.core.remote.service import RemoteAccess
from backend.core.resources import frontend_dir
from backend.core.services import Services
from backend.core.settings import Settings
from backend.web.api import api
from backend.web.api_app import app_api
from backend.web.api_data import data_api
from backend.web.api_endpoints import endpoints_api
from backend.web.api_images import images_api
from backend.web.api_messages import messages_api
from backend.web.api_models import models_api
from backend.web.api_remote import remote_api
from backend.web.api_session import CODES_KEY, session_api
from backend.web.api_settings import settings_api
from backend.web.context import install, install_remote
from backend.web.errors import register_error_handlers
from backend.web.json_body import FastJSONProvider
from backend.web.remote_dispatch import AppDispatcher
from backend.web.security import LaunchCodes, check_request, new_token
from backend.web.ws import MAX_FRAME_BYTES, ClientSocket, SocketRegistry

# Model output is untrusted: even if something slipped past the sanitiser, no script
# from anywhere but the app itself runs, and nothing is fetched from the network.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


# Windows' registry can map .js to text/plain, which `nosniff` then refuses as a module.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")


def create_app(settings: Settings, services: Services, *, token: str | None = None) -> Flask:
    """Build the app; `app.config["TOKEN"]` is the per-launch secret the UI must present."""
    static = frontend_dir()
    app = Flask(__name__, static_folder=None)
    app.json = FastJSONProvider(app)
    app.config.update(
        TOKEN=token or new_token(),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        # Larger frames close the socket (1009) instead of filling memory.
        SOCK_SERVER_OPTIONS={"max_message_size": MAX_FRAME_BYTES},
    )
    sockets = SocketRegistry()
    install(app, services, sockets)
    app.extensions[CODES_KEY] = LaunchCodes()
    register_error_handlers(app)
    app.register_blueprint(api)
    app.register_blueprint(app_api)
    app.register_blueprint(data_api)
    app.register_blueprint(endpoints_api)
    app.register_blueprint(images_api)
    app.register_blueprint(messages_api)
    app.register_blueprint(models_api)
    app.register_blueprint(settings_api)
    app.register_blueprint(session_api)
    app.register_blueprint(remote_api)
    # Started by the runtime (it opens a connection to the relay); stopped with the app.
    install_remote(
        app,
        RemoteAccess(
            settings.data_dir,
            AppDispatcher(app, services, sockets),
            relay_url=settings.relay_url,
            bus=services.bus,
        ),
    )

    @app.before_request
    def _guard():
        check_request(request, app.config["TOKEN"], settings.host)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        else:
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("Cache-Control", "no-cache")
        return response

    @app.get("/")
    def index():
        return send_from_directory(static, "index.html")

    @app.get("/<path:filename>")
    def frontend_file(filename: str):
        return send_from_directory(static, filename)

    sock = Sock(app)

    @sock.route("/ws")
    def websocket(ws):
        ClientSocket(ws, services, sockets).serve()

    return app
