"""A real loopback HTTP server that speaks Ollama's wire format, with switches for faults.

The bytes follow the transcripts in ollama-wire/: compact JSON as Go writes it (`<`, `>`
and `&` escaped), `created_at` in RFC3339Nano UTC, NDJSON streams sent with chunked
transfer encoding over HTTP/1.1. Switches are plain attributes read at the start of each
request; `reset()` puts them back and clears the records.

Over 300 lines on purpose: one fake server, each endpoint and fault switch beside
the wire format it copies.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import select
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from tests.prefill import assistant_prefix, tokens_after
from tests.raw_chat import RawChat, send_raw_chat

STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"
PULL_ERROR_LINES = [
    {"status": "pulling manifest"},
    {"error": "pull model manifest: file does not exist"},
]
# The content tokens of chat_stream.ndjson.
DEFAULT_TOKENS = [
    "The", " sky", " looks", " blue", " because", " of", " **", "Ray", "leigh", " scattering",
    "**", ":", " sunlight", " is", " made", " of", " many", " wavelengths", ",", " and", " the",
    " short", " blue", " wavelengths", " (~", "450", " nm", ")", " are", " scattered", " by",
    " nitrogen", " and", " oxygen", " molecules", " far", " more", " strongly", " than", " red",
    " ones", ".\n\n", "In", " short", ":", " `", "scattering", " ∝", " 1", "/", "λ", "⁴", "`",
    " &", " blue", " has", " the", " shortest", " visible", " λ", " <", " 500", " nm", ".",
]  # fmt: skip


def _tag(name: str, when: str, size: int, digest: str, family: str, params: str, quant: str):
    details = {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family],
        "parameter_size": params,
        "quantization_level": quant,
    }
    return {
        "name": name,
        "model": name,
        "modified_at": when,
        "size": size,
        "digest": digest,
        "details": details,
    }


# tags.json, newest first as Ollama sorts it.
DEFAULT_MODELS = [
    _tag("qwen3:8b", "2025-10-30T09:12:03.551482114+01:00", 5225388164,
         "500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41", "qwen3", "8.2B",
         "Q4_K_M"),
    _tag("deepseek-r1:latest", "2025-05-10T08:06:48.639712648-07:00", 4683075271,
         "0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163", "qwen2", "7.6B",
         "Q4_K_M"),
    _tag("llama3.2:latest", "2025-05-04T17:37:44.706015396-07:00", 2019393189,
         "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", "llama", "3.2B",
         "Q4_K_M"),
    _tag("all-minilm:latest", "2025-03-22T11:40:17.0291733-07:00", 45960996,
         "1b226e2802dbb772b5fc32a58f103ca1804ef7501331012de126ab22f67475ef", "bert", "23M",
         "F16"),
]  # fmt: skip
# A vision model (Ollama's show lists "vision" for it), for tests that attach images.
VISION_MODEL = _tag("gemma3:4b", "2025-06-01T10:00:00.5-07:00", 3338801804,
    "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a", "gemma3", "4.3B",
    "Q4_K_M")  # fmt: skip
# What the real server says when a model that cannot see is sent images.
NO_VISION_ERROR = "this model is missing data required for image input"
# Names the fake registry can pull (besides the installed ones).
DEFAULT_PULLABLE = ["mistral:latest", "gemma3:4b", "phi4:latest", "tinyllama:latest"]


def _pull_transcript() -> list[dict]:
    """pull_stream.ndjson: the manifest, one big layer ticking up, small layers, the end."""
    big, total = "dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff", 2019377376
    small = [
        ("966de95ca8a62200913e3f8bfbf84c8494536f1b94b49166851e76644e966396", 1429),
        ("fcc5a6bec9daf9b561a68827b67ab6088e1dba9d1fa2a50d7bbcc8384e0a265d", 7711),
        ("a70ff7e570d97baaf4e62ac6e6ad9975e04caa6d900d3742d37698494479e0cd", 6016),
        ("56bb8bd477a519ffa694fc449c2413c6f0e1d3b1c88fa7e3c9d88d3ae49d4dcb", 96),
        ("34bb5ab01051a11372a91f95f3fbbc51173eed8e7f13ec395b9ae9b8bd0e242b", 561),
    ]
    ticks = [
        241970,
        3407872,
        9961472,
        21233664,
        48496640,
        104857600,
        262144000,
        524288000,
        786432000,
        1048576000,
        1363148800,
        1677721600,
        1937768448,
        2013265920,
        total,
    ]
    layer = {"status": f"pulling {big[:12]}", "digest": f"sha256:{big}", "total": total}
    lines: list[dict] = [{"status": "pulling manifest"}, dict(layer)]
    lines += [{**layer, "completed": done} for done in ticks]
    for digest, size in small:
        lines.append(
            {"status": f"pulling {digest[:12]}", "digest": f"sha256:{digest}", "total": size,
             "completed": size}
        )  # fmt: skip
    statuses = ["verifying sha256 digest", "writing manifest", "success"]
    return lines + [{"status": status} for status in statuses]


def go_json(obj: Any) -> bytes:
    """Compact JSON as Go's json.Marshal writes it (HTML characters escaped)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


@functools.lru_cache(maxsize=4)
def _second_prefix(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def now_rfc3339nano() -> str:
    """time.Now().UTC() formatted as Go's RFC3339Nano (trailing zeros trimmed)."""
    second, nanos = divmod(time.time_ns(), 1_000_000_000)
    if not nanos:
        return _second_prefix(second) + "Z"
    return f"{_second_prefix(second)}.{nanos:09d}".rstrip("0") + "Z"


def normalize_name(name: str) -> str:
    """Ollama's short form: "llama3.2" means "llama3.2:latest"."""
    return name if ":" in name else f"{name}:latest"


class LoopbackFake:
    """A fake server's life: listen on a loopback port, serve in a daemon thread, stop.

    Subclasses name their request `handler` and keep their switches in `reset()`."""

    handler: type
    name = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests: list[dict] = []
        self.aborted_streams = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Listen (again after stop(): on the same port) and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self.handler)
        server.fake = self
        self.port = server.server_address[1]
        self._server = server
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.name = f"{self.name}-{self.port}"
        thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open connection: new connections are refused."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count_abort(self) -> None:
        with self._lock:
            self.aborted_streams += 1


class FakeOllama(LoopbackFake):
    """An Ollama server on a loopback port; see the module docstring and `reset()`."""

    name = "fake-ollama"

    def reset(self) -> None:
        """All switches back to their defaults; the records are cleared too."""
        self.version = "0.13.0"
        self.models: list[dict] = copy.deepcopy(DEFAULT_MODELS)
        self.pullable: list[str] = list(DEFAULT_PULLABLE)
        self.tokens: list[str] | None = list(DEFAULT_TOKENS)
        self.token_count: int | None = None
        self.thinking: list[str] = []
        # The content of non-streamed /api/chat answers (the app's title requests) when set;
        # None: the token list joined, like a streamed reply.
        self.title_reply: str | None = None
        self.token_delay = 0.0
        self.first_token_delay = 0.0
        # The fault positions count token lines, thinking and content alike.
        self.error_after: int | None = None
        self.cut_after: int | None = None
        self.malformed_after: int | None = None
        self.omit_done = False
        self.http_error: tuple[int, str] | None = None
        self.raw_chat: RawChat | None = None  # streamed chat answers sent byte for byte
        self.pull_lines: list[dict] | None = None
        self.pull_delay = 0.0
        self.show_delay = 0.0  # seconds before /api/show answers (a hung Ollama)
        super().reset()

    @property
    def chat_requests(self) -> list[dict]:
        return [r["json"] for r in self.requests if r["path"] == "/api/chat"]

    # Helpers for the handler.
    def record(self, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append({"method": method, "path": path, "json": body})

    def find_model(self, name: str) -> dict | None:
        wanted = normalize_name(name)
        return next((m for m in self.models if normalize_name(m["name"]) == wanted), None)

    def reply_tokens(self) -> list[str]:
        if self.token_count is not None:
            return [f"tok{i} " for i in range(self.token_count)]
        return list(self.tokens or [])

    def can_pull(self, name: str) -> bool:
        wanted = normalize_name(name)
        known = [normalize_name(n) for n in self.pullable]
        return wanted in known or self.find_model(name) is not None

    def add_pulled(self, name: str, lines: list[dict]) -> None:
        """A successful pull installs the model as the newest one."""
        full = normalize_name(name)
        with self._lock:
            self.models = [m for m in self.models if normalize_name(m["name"]) != full]
            layers = {line["digest"]: line.get("total", 0) for line in lines if "digest" in line}
            digest = hashlib.sha256(full.encode()).hexdigest()
            entry = _tag(
                full,
                now_rfc3339nano(),
                sum(layers.values()),
                digest,
                full.split(":")[0],
                "3B",
                "Q4_K_M",
            )
            self.models.insert(0, entry)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a stream that is still sleeping
    request_queue_size = 128
    fake: Any  # the LoopbackFake it serves

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        # Token lines are tiny: without this, Nagle + delayed ACK adds ~40 ms per line.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.conns_lock:
            self.conns.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.conns_lock:
            conns = list(self.conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away: not worth a traceback
        super().handle_error(request, client_address)


def wait_or_gone(conn: socket.socket, seconds: float) -> bool:
    """Sleep, waking early if the client disconnects; False when it has gone."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([conn], [], [], left)
        if not readable:
            return True
        try:
            if not conn.recv(1, socket.MSG_PEEK):
                return False
        except OSError:
            return False
        time.sleep(max(0.0, deadline - time.monotonic()))  # pipelined bytes, not a hang-up
    return True


def _client_gone(conn: socket.socket) -> bool:
    """True when the client has hung up (EOF waiting on the socket), without blocking."""
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return not conn.recv(1, socket.MSG_PEEK)
    except OSError:
        return True


_HEAD = b'","message":{"role":"assistant","content":'
_THINK_HEAD = b'","message":{"role":"assistant","content":"","thinking":'
_LINE_END = b'},"done":false}\n'
_BATCH = 64  # token lines per chunk when there is no delay between them
_FAULTS = ("error", "cut", "malformed")


class _ChatPlan:
    """One chat request's reply, fixed from the switches when the request arrives."""

    def __init__(self, fake: FakeOllama, body: dict) -> None:
        self.model = str(body["model"])
        self.thinking = list(fake.thinking)
        self.tokens = fake.reply_tokens()
        # Ollama carries on a history that ends with the assistant's text (tests/prefill.py).
        prefix = assistant_prefix(body.get("messages"))
        if prefix is not None:
            self.tokens = tokens_after(self.tokens, prefix)
            self.thinking = []  # the thinking was over once the text had begun
        self.title_reply = fake.title_reply
        self.token_delay = fake.token_delay
        self.first_token_delay = fake.first_token_delay
        self.omit_done = fake.omit_done
        self.faults = {
            "error": fake.error_after,
            "cut": fake.cut_after,
            "malformed": fake.malformed_after,
        }
        chars = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [])
        self.prompt_eval_count = 31 + chars // 4

    def fault(self, lines: int) -> tuple[int, str | None]:
        """How many token lines to send, and the fault that replaces the rest (or None)."""
        armed = [(min(n, lines), kind) for kind, n in self.faults.items() if n is not None]
        return min(armed, key=lambda item: (item[0], _FAULTS.index(item[1])), default=(lines, None))

    def final(self) -> dict:
        """The done line: the transcript's durations scaled to the number of tokens."""
        eval_count = len(self.tokens)
        eval_duration = round(eval_count * 762_797_000 / 64)
        load, prompt = 1_532_417_291, 41_206_833
        return {
            "model": self.model,
            "created_at": now_rfc3339nano(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": load + prompt + eval_duration + 9_874_125,
            "load_duration": load,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": prompt,
            "eval_count": eval_count,
            "eval_duration": eval_duration,
        }


def _stream_chat(h: _Handler, plan: _ChatPlan) -> None:
    h.start_stream()
    conn, delay = h.connection, plan.token_delay
    if plan.first_token_delay and not wait_or_gone(conn, plan.first_token_delay):
        return h.aborted()
    head = b'{"model":' + go_json(plan.model) + b',"created_at":"'
    items = [(_THINK_HEAD, go_json(t)) for t in plan.thinking]
    items += [(_HEAD, go_json(t)) for t in plan.tokens]
    count, fault = plan.fault(len(items))
    batch: list[bytes] = []
    for i, (mid, token) in enumerate(items[:count]):
        if i and delay and not wait_or_gone(conn, delay):
            return h.aborted()
        batch.append(b"".join((head, now_rfc3339nano().encode(), mid, token, _LINE_END)))
        if (delay or len(batch) >= _BATCH) and not h.write_lines(batch):
            return None
    if fault == "error":
        batch.append(go_json({"error": STREAM_ERROR}) + b"\n")
        h.close_connection = True
    elif fault == "malformed":
        batch.append(head + now_rfc3339nano().encode() + b'","message":{"role":"assis\n')
    elif fault is None and not plan.omit_done:
        batch.append(go_json(plan.final()) + b"\n")
    if fault == "cut":
        return h.cut(batch)
    h.write_lines(batch, last=True)
    return None


def _whole_chat(h: _Handler, plan: _ChatPlan) -> None:
    lines = len(plan.thinking) + len(plan.tokens)
    wait = plan.first_token_delay + plan.token_delay * max(lines - 1, 0)
    if wait and not wait_or_gone(h.connection, wait):
        return h.aborted()
    fault = plan.fault(lines)[1]
    if fault == "error":
        return h.send_json(500, {"error": STREAM_ERROR})
    if fault == "cut":
        return h.cut([])
    if fault == "malformed":
        return h.send_bytes(200, b'{"model":"', "application/json; charset=utf-8")
    reply = plan.final()
    whole = plan.title_reply if plan.title_reply is not None else "".join(plan.tokens)
    reply["message"]["content"] = whole
    if plan.thinking:
        reply["message"]["thinking"] = "".join(plan.thinking)
    return h.send_json(200, reply)


def _chat(h: _Handler, fake: FakeOllama, body: dict) -> None:
    if fake.http_error is not None:
        status, message = fake.http_error
        return h.send_json(status, {"error": message})
    model = body.get("model")
    if not model:
        return h.send_json(400, {"error": "model is required"})
    entry = fake.find_model(str(model))
    if entry is None:
        return h.send_json(404, {"error": f"model '{model}' not found"})
    refused = _image_problem(body, entry)
    if refused is not None:
        return h.send_json(*refused)
    plan = _ChatPlan(fake, body)
    if body.get("stream", True) is False:
        return _whole_chat(h, plan)
    if fake.raw_chat is not None:
        return send_raw_chat(h, fake.raw_chat)
    return _stream_chat(h, plan)


def _image_problem(body: dict, entry: dict) -> tuple[int, dict] | None:
    """Ollama decodes each message's `images` (base64) when it reads the request (a bad
    one is a 400) and fails a model that cannot see them."""
    images = [i for m in body.get("messages") or [] for i in (m.get("images") or [])]
    for image in images:
        try:
            if not isinstance(image, str):
                raise ValueError("not a string")
            base64.b64decode(image, validate=True)
        except ValueError:
            return 400, {"error": "illegal base64 data at input byte 0"}
    if images and "vision" not in _show_answer(entry)["capabilities"]:
        return 500, {"error": NO_VISION_ERROR}
    return None


def _pull(h: _Handler, fake: FakeOllama, body: dict) -> None:
    name = str(body.get("model") or body.get("name") or "")
    if not name:
        return h.send_json(400, {"error": "model is required"})
    ok = fake.can_pull(name)
    lines = (fake.pull_lines or _pull_transcript()) if ok else PULL_ERROR_LINES
    if body.get("stream", True) is False:
        failed = next((line for line in lines if "error" in line), None)
        if failed is not None:
            return h.send_json(500, failed)
        fake.add_pulled(name, lines)
        return h.send_json(200, {"status": "success"})
    h.start_stream()
    for i, line in enumerate(lines):
        if i and fake.pull_delay and not wait_or_gone(h.connection, fake.pull_delay):
            return h.aborted()
        if line.get("status") == "success":
            fake.add_pulled(name, lines)  # installed before the client can see "success"
        last = "error" in line or i == len(lines) - 1
        if not h.write_lines([go_json(line) + b"\n"], last=last) or last:
            return None
    h.write_lines([], last=True)
    return None


def _show_answer(entry: dict) -> dict:
    details = entry["details"]
    family = details.get("family") or "llama"
    capabilities = {
        "bert": ["embedding"],
        "qwen3": ["completion", "tools", "thinking"],
        "gemma3": ["completion", "vision"],
    }
    return {
        "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
        "modelfile": f'# Modelfile generated by "ollama show"\nFROM {entry["name"]}\n',
        "parameters": 'stop                           "<|eot_id|>"',
        "template": "{{ if .System }}{{ .System }}{{ end }}{{ .Prompt }}",
        "details": details,
        "model_info": {
            "general.architecture": family,
            "general.file_type": 15,
            "general.parameter_count": 3212749888,
            "general.quantization_version": 2,
            f"{family}.block_count": 28,
            f"{family}.context_length": 131072,
            f"{family}.embedding_length": 3072,
        },
        "capabilities": capabilities.get(family, ["completion", "tools"]),
        "modified_at": entry["modified_at"],
    }


def _show(h: _Handler, fake: FakeOllama, body: dict) -> None:
    if fake.show_delay and not wait_or_gone(h.connection, fake.show_delay):
        return None
    name = str(body.get("model") or body.get("name") or "")
    entry = fake.find_model(name) if name else None
    if entry is None:
        return h.send_json(404, {"error": f"model '{name}' not found"})
    return h.send_json(200, _show_answer(entry))


def _delete(h: _Handler, fake: FakeOllama, body: dict) -> None:
    name = str(body.get("model") or body.get("name") or "")
    entry = fake.find_model(name) if name else None
    if entry is None:
        return h.send_json(404, {"error": f"model '{name}' not found"})
    with fake._lock:
        fake.models = [m for m in fake.models if m is not entry]
    return h.send_bytes(200, b"", "text/plain; charset=utf-8")


_BODY_ROUTES = {
    ("POST", "/api/chat"): _chat,
    ("POST", "/api/pull"): _pull,
    ("POST", "/api/show"): _show,
    ("DELETE", "/api/delete"): _delete,
}


def _parse_body(raw: bytes) -> tuple[Any, str | None]:
    """The JSON body, or None and an error message worded like Go's."""
    if not raw.strip():
        return None, "missing request body"
    try:
        body = json.loads(raw)
    except ValueError as exc:
        pos = getattr(exc, "pos", 0)
        char = raw[pos : pos + 1].decode("latin-1") or "EOF"
        return None, f"invalid character '{char}' looking for beginning of value"
    if not isinstance(body, dict):
        return body, "json: cannot unmarshal into Go value of type api.Request"
    return body, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read the records instead

    def _dispatch(self) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        body, problem = _parse_body(self.rfile.read(length) if length else b"")
        fake.record(self.command, path, body)
        try:
            self._route(fake, path, body, problem)
        except OSError:
            self.close_connection = True  # the client went away mid-answer

    def _route(self, fake: FakeOllama, path: str, body: Any, problem: str | None) -> None:
        if self.command in ("GET", "HEAD") and path in ("/", ""):
            return self.send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")
        if self.command == "GET" and path == "/api/version":
            return self.send_json(200, {"version": fake.version})
        if self.command == "GET" and path == "/api/tags":
            return self.send_json(200, {"models": fake.models})
        route = _BODY_ROUTES.get((self.command, path))
        if route is None:
            return self.send_bytes(404, b"404 page not found", "text/plain")
        if problem is not None:
            return self.send_json(400, {"error": problem})
        return route(self, fake, body)

    do_GET = do_HEAD = do_POST = do_DELETE = _dispatch

    def send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response_only(status)  # no Server header: Ollama sends none
        self.send_header("Content-Type", content_type)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, obj: Any) -> None:
        self.send_bytes(status, go_json(obj), "application/json; charset=utf-8")

    def start_stream(self) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Date", self.date_time_string())
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_lines(self, batch: list[bytes], *, last: bool = False) -> bool:
        """Send the lines as one chunk (and the terminating chunk if `last`, in the same
        write, so a client that hangs up after the final line is not taken for an abort).
        Empties the batch; False if the client has gone."""
        data = b"".join(batch)
        batch.clear()
        out = b"%x\r\n%b\r\n" % (len(data), data) if data else b""
        try:
            if _client_gone(self.connection):
                raise BrokenPipeError
            self.wfile.write(out + b"0\r\n\r\n" if last else out)
        except OSError:
            self.aborted()
            return False
        return True

    def aborted(self) -> None:
        self.close_connection = True
        self.server.fake.count_abort()

    def cut(self, batch: list[bytes]) -> None:
        """Send the batch, then end the connection with no terminating chunk (a crash)."""
        if not self.write_lines(batch):
            return
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # already gone


FakeOllama.handler = _Handler  # defined after the class, which the handler refers to
