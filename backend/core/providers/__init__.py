"""The model servers the app talks to; Ollama is the first."""
