"""The core: settings, the chat service, the store, the model providers, the connection
monitor and the event bus. No Flask, no GUI, no process plumbing: the edges (`web/`,
`desktop/`) and the launcher import the core, never the other way round."""
