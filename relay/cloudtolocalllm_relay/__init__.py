"""CloudToLocalLLM's relay: routes opaque, end-to-end encrypted frames between a desktop and
its paired devices, and serves the phone's page. It keeps nothing but routes, in memory."""

__version__ = "0.1.0"
