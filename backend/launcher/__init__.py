"""Process plumbing: the command line, start-up and shutdown, the HTTP server thread,
one app per data dir, signals, logs, memory tuning and the self-test."""
