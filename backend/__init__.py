"""CloudToLocalLLM: a private desktop chat for the models in your local Ollama."""

__version__ = "0.1.0"
