"""The app's long-lived parts, built once from the settings and closed together."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.app import ConversationService, ModelService, WindowRequests
from backend.core.app.settings import follow_settings
from backend.core.chat import ChatService
from backend.core.endpoints import ApiKeys, Endpoint, EndpointService, EndpointStore
from backend.core.endpoints.keys import FILENAME as KEYS_FILENAME
from backend.core.endpoints.store import FILENAME as ENDPOINTS_FILENAME
from backend.core.events import EventBus
from backend.core.monitor import ConnectionMonitor, MonitorConfig
from backend.core.providers.base import Provider
from backend.core.providers.ollama import OllamaClient
from backend.core.providers.openai import OpenAIClient
from backend.core.providers.registry import Endpoints
from backend.core.settings import DEFAULT_OLLAMA_URL, Settings
from backend.core.store import Store
from backend.core.store import search as store_search
from backend.core.user_settings import SETTINGS_FILENAME, UserSettings


@dataclass
class Services:
    """What the edges (web, desktop, launcher) call: the application layer and its parts."""

    settings: Settings
    store: Store
    bus: EventBus
    monitor: ConnectionMonitor
    endpoints: Endpoints
    chat: ChatService
    conversations: ConversationService
    models: ModelService
    window: WindowRequests
    user_settings: UserSettings
    endpoint_service: EndpointService  # the added endpoints (`endpoints` holds providers)

    def close(self) -> None:
        """Stop replies in flight (their text kept), then the monitors, then the database."""
        self.chat.shutdown()
        self.monitor.stop()
        self.endpoint_service.stop()
        self.bus.close()
        self.store.close()

    def use_ollama(self, url: str) -> None:
        """Talk to the Ollama at `url` from now on: new replies and the monitor's checks."""
        client = make_client(self.settings, url)
        self.endpoints.set(self.endpoints.default, client)  # replies streaming keep theirs
        self.monitor.set_client(client)


def build_services(settings: Settings, *, start_monitor: bool = True) -> Services:
    store = Store(settings.db_path)
    store_search.prepare(store.engine, store.path)
    bus = EventBus()
    user_settings = UserSettings(
        settings.data_dir / SETTINGS_FILENAME,
        launch_ollama_url=settings.ollama_url,
        launch_overrides=launch_names_ollama(settings),
    )
    client = make_client(settings, user_settings.ollama_url)
    endpoints = Endpoints(client)
    monitor = ConnectionMonitor(client, bus, monitor_config_for(user_settings.ollama_url))
    chat = ChatService(
        store,
        endpoints,
        persist_interval_s=settings.persist_interval_s,
        max_content_bytes=settings.max_content_bytes,
        on_ollama_failure=monitor.request_check,
        publish=bus.publish,
        default_model=user_settings.default_model,
        context_window=user_settings.context_window,
        auto_title=True,  # available; each chat.send asks for it (the UI does)
    )
    services = Services(
        settings=settings,
        store=store,
        bus=bus,
        monitor=monitor,
        endpoints=endpoints,
        chat=chat,
        conversations=ConversationService(store, chat, bus.publish),
        models=ModelService(endpoints, chat.models, bus.publish, monitor.request_check),
        window=WindowRequests(settings.mode, bus.publish),
        user_settings=user_settings,
        endpoint_service=EndpointService(
            EndpointStore(settings.data_dir / ENDPOINTS_FILENAME),
            ApiKeys(settings.data_dir / KEYS_FILENAME),
            bus,
            make_client=lambda endpoint, key: make_provider(settings, endpoint, key),
            ollama=lambda: (user_settings.ollama_url, monitor.status()),
            check_ollama=monitor.check_now,
            monitor_config=monitor_config_for,
            on_client=lambda endpoint_id, client: _follow(endpoints, endpoint_id, client),
        ),
    )
    user_settings.on_change(follow_settings(services.use_ollama, bus.publish))
    if start_monitor:
        monitor.start()
        services.endpoint_service.start()
    return services


def _follow(endpoints: Endpoints, endpoint_id: str, client: Provider | None) -> None:
    """Keep the registry in step with the added endpoints' clients."""
    if client is None:
        endpoints.remove(endpoint_id)
    else:
        endpoints.set(endpoint_id, client)


def launch_names_ollama(settings: Settings) -> bool:
    """Whether the launch named an Ollama address (`--ollama-url`, `OLLAMA_HOST`).

    Settings built in code (tests, tools) say so by a URL other than the default.
    """
    return settings.ollama_url_given or settings.ollama_url != DEFAULT_OLLAMA_URL


def make_client(settings: Settings, url: str) -> OllamaClient:
    return OllamaClient(
        url,
        connect_timeout=settings.ollama_connect_timeout_s,
        read_timeout=settings.ollama_read_timeout_s,
    )


def make_provider(settings: Settings, endpoint: Endpoint, key: str | None) -> Provider:
    """The client of an added endpoint, by its kind."""
    timeouts = {
        "connect_timeout": settings.ollama_connect_timeout_s,
        "read_timeout": settings.ollama_read_timeout_s,
    }
    if endpoint.kind == "openai":
        return OpenAIClient(endpoint.base_url, api_key=key, **timeouts)
    return OllamaClient(endpoint.base_url, **timeouts)


def monitor_config_for(ollama_url: str) -> MonitorConfig:
    """Loopback Ollama answers in milliseconds; one across a network gets more patience."""
    local = any(h in ollama_url for h in ("://127.", "://localhost", "://[::1]"))
    return MonitorConfig.local() if local else MonitorConfig.remote()
