"""A real llama.cpp server (`llama-server`'s HTTP code, in-process through the xllamacpp
wheel) on a loopback port, serving the tiny random-weight llama of tests/tiny_gguf.py.

Run as `python -m tests.llama_server_process FOLDER MODEL_ALIAS`: writes FOLDER/tiny.gguf,
starts the server on a free port, prints `listening URL` and serves until terminated.
The `realserver` extra (xllamacpp, gguf) must be installed."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from tests.tiny_gguf import CONTEXT, write_tiny_llama


def main(folder: Path, alias: str) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(write_tiny_llama(folder / "tiny.gguf"))
    params.model_alias = {alias}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free one: the server says which
    params.n_ctx = CONTEXT  # room for a reply long enough to stop midway
    params.cpuparams.n_threads = 1  # the machine is shared; a tiny model needs no more
    params.cpuparams_batch.n_threads = 1
    server = xllamacpp.Server(params)
    print("listening", server.listening_address, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    del server  # stops the HTTP threads and frees the model


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main(Path(sys.argv[1]), sys.argv[2])
