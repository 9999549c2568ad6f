"""`robot-memory serve`: the viewer live over HTTP, with an ask box, read-only on the store.

Built on the standard library's `ThreadingHTTPServer`: the server has four routes, speaks JSON
and listens on localhost, so a framework would add a dependency without removing any code
(Flask's own server is also a development server). What a public-facing server needs and
this one does instead: it binds to 127.0.0.1 unless told otherwise, takes no file path or
command from the client (the memory file is fixed when it starts), reads at most
`max_body_bytes` of a request, answers at most `asks_per_s` questions per client (a token
bucket; 429 beyond), validates every field, and sends a Content-Security-Policy.

The memory file is opened read-only (a reader beside a writing `memory_node`, WAL mode): new
committed events are applied to the loaded memory when the page polls `/api/version`.

Routes: `GET /` (the page), `GET /api/view` (its data), `GET /api/version` (the last event's
sequence number), `POST /api/ask` (`{"question": str, "at_s": float | null}`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from robot_memory.core import MemoryStore
from robot_memory.core.planner import PlannerParams, VoIPlanner
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.viewer.data import view_data
from robot_memory.viewer.page import content_policy, data_json, render_page

__all__ = ['MemoryServer', 'RateLimiter', 'validate_ask']

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 300


class RateLimiter:
    """A token bucket per client: `rate_per_s` sustained, `burst` at once."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise InvalidInputError('rate_per_s must be > 0 and burst >= 1')
        self.rate_per_s, self.burst = rate_per_s, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Take one token for `client`; False when it has none left."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
            if len(self._buckets) > 10000:  # forget idle clients rather than grow forever
                self._buckets.clear()
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1.0, now)
            return True


def validate_ask(body: bytes) -> tuple[str, float | None]:
    """The question and optional time of an ask request; raises `InvalidInputError`."""
    try:
        request = json.loads(body.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f'the request is not JSON in UTF-8 ({exc})') from None
    if not isinstance(request, dict):
        raise InvalidInputError('the request must be a JSON object')
    unknown = sorted(set(request) - {'question', 'at_s'})
    if unknown:
        raise InvalidInputError(f'unknown field {unknown[0]!r}; valid: question, at_s')
    question = request.get('question')
    if not isinstance(question, str) or not question.strip():
        raise InvalidInputError('"question" must be a non-empty string')
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInputError(f'"question" is longer than {MAX_QUESTION_CHARS} characters')
    if any(ord(c) < 32 and c not in '\t' for c in question):
        raise InvalidInputError('"question" holds control characters')
    at_s = request.get('at_s')
    if at_s is not None and (isinstance(at_s, bool) or not isinstance(at_s, int | float)
                             or not math.isfinite(at_s)):
        raise InvalidInputError('"at_s" must be a finite number of seconds or null')
    return question.strip(), None if at_s is None else float(at_s)


class MemoryServer:
    """The viewer and ask box for one memory file, served over HTTP."""

    def __init__(self, db: str | Path, host: str = '127.0.0.1', port: int = 8080,
                 embeddings: bool = True, max_body_bytes: int = 4096,
                 asks_per_s: float = 2.0, ask_burst: int = 10,
                 now_s: float | None = None) -> None:
        from robot_memory.service import MemoryService, MemoryServiceParams

        self.db = Path(db)
        self.store = MemoryStore(self.db, read_only=True)
        self.service = MemoryService(MemoryServiceParams(use_embeddings=embeddings),
                                     memory=self.store.load())
        self.now_s = now_s  # questions without a time are asked at this stamp (default: latest)
        self.max_body_bytes = max_body_bytes
        self.limiter = RateLimiter(asks_per_s, ask_burst)
        self.lock = threading.Lock()
        self.title = f'robot memory: {self.db.name}'
        self._page: tuple[int, str, str] | None = None  # (seq, page, data JSON)
        self.requests = 0
        self.rejected = 0
        if not ipaddress.ip_address(_resolve(host)).is_loopback:
            log.warning('serving %s on %s: anyone who can reach this address can read the '
                        'memory and ask questions', self.db, host)
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        """Where the page is served."""
        host, port = self.httpd.server_address[:2]
        return f'http://{host}:{port}/'

    # ------------------------------------------------------------- memory
    def refresh(self) -> int:
        """Apply events committed since the last look; returns the last sequence number."""
        with self.lock:
            memory = self.service.memory
            for seq, event in self.store.iter_events(after_seq=self.store.loaded_seq):
                memory.apply(event)
                self.store.loaded_seq = seq
            memory.drain()
            return self.store.loaded_seq

    def page(self) -> tuple[str, str]:
        """The live page and its data JSON, rebuilt only when memory changed."""
        seq = self.refresh()
        with self.lock:
            if self._page is None or self._page[0] != seq:
                data = view_data(self.service.memory, title=self.title)
                self._page = (seq, render_page(data, live=True), data_json(data))
            return self._page[1], self._page[2]

    def ask(self, question: str, at_s: float | None) -> dict[str, Any]:
        """Answer a question as of `at_s` (default now), with the looks the planner would take."""
        self.refresh()
        with self.lock:
            memory = self.service.memory
            now = at_s if at_s is not None else self.now_s if self.now_s is not None \
                else memory.now_s
            reply: dict[str, Any] = {'ok': True, 'asked_at_s': now}
            parsed = self.service.parse(question, now)
            if parsed.query is None:
                return {'ok': False, 'answer': f'I could not understand the question: '
                        f'{parsed.error}', 'error': parsed.error}
            answer = self.service.engine.answer(parsed.query, now)
            reply.update(answer.to_dict())
            for evidence in reply['evidence']:
                if evidence.get('room_id'):
                    evidence['room_name'] = self.service.engine.room_name(evidence['room_id'],
                                                                          now)
            reply['plan'], reply['robot_xy'] = [], None
            if answer.needs_verification:
                reply['plan'], reply['robot_xy'] = self._planned_looks(parsed.query, now)
            return reply

    def _planned_looks(self, query: Any, now: float) -> tuple[list[dict[str, Any]], Any]:
        """Where the VoI planner would look, if each look found nothing new."""
        memory = self.service.memory
        layout = memory.layout_at(now)
        # Where the robot last looked from: the place with the latest look.
        looked = {p: memory.place_observed_s(p, now) for p in layout.places}
        robot = max((p for p, s in looked.items() if s is not None), key=lambda p: looked[p],
                    default=None)
        result = VoIPlanner(PlannerParams()).answer(
            self.service.engine, query, robot, observe=lambda place: 0.0, now=lambda: now)

        def xy(place: str) -> list[float]:
            return list(layout.get_place(place).position_m[:2])

        return ([{'place_id': p, 'xy': xy(p)} for p in result.path],
                xy(robot) if robot is not None else None)

    # ------------------------------------------------------------- running
    def serve_forever(self) -> None:
        """Serve until `shutdown` (or Ctrl-C in the caller)."""
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> MemoryServer:
        """Serve from a background thread (tests, benchmarks)."""
        threading.Thread(target=self.serve_forever, name='robot_memory-serve',
                         daemon=True).start()
        return self

    def shutdown(self) -> None:
        """Stop serving and close the store."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.store.close()

    def __enter__(self) -> MemoryServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _resolve(host: str) -> str:
    if host == 'localhost':
        return '127.0.0.1'
    try:
        ipaddress.ip_address(host)
    except ValueError:
        import socket

        return socket.gethostbyname(host)
    return host


def _handler(server: MemoryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = 'robot_memory'
        sys_version = ''
        timeout = 10  # a client that sends nothing for this long is dropped

        def log_message(self, format: str, *args: Any) -> None:
            log.debug('%s %s', self.address_string(), format % args)

        def _send(self, status: HTTPStatus, body: str, kind: str = 'application/json',
                  csp: str = "default-src 'none'") -> None:
            data = body.encode('utf-8')
            self.send_response(status)
            self.send_header('Content-Type', f'{kind}; charset=utf-8')
            self.send_header('Content-Length', str(len(data)))
            self.send_header('Cache-Control', 'no-store')
            self.send_header('X-Content-Type-Options', 'nosniff')
            self.send_header('Content-Security-Policy', csp)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: HTTPStatus, message: str) -> None:
            server.rejected += 1
            self._send(status, json.dumps({'ok': False, 'error': message}))

        def do_GET(self) -> None:
            server.requests += 1
            path = self.path.split('?', 1)[0]
            try:
                if path in ('/', '/index.html'):
                    page, _ = server.page()
                    self._send(HTTPStatus.OK, page, 'text/html',
                               csp=content_policy(live=True) + "; frame-ancestors 'none'")
                elif path == '/api/view':
                    self._send(HTTPStatus.OK, server.page()[1])
                elif path == '/api/version':
                    seq = server.refresh()
                    self._send(HTTPStatus.OK, json.dumps(
                        {'seq': seq, 'now_s': server.service.memory.now_s}))
                else:
                    self._error(HTTPStatus.NOT_FOUND, f'no such page {path!r}')
            except RobotMemoryError as exc:
                log.warning('serving %s failed: %s', path, exc)
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))

        def do_POST(self) -> None:
            server.requests += 1
            if self.path != '/api/ask':
                self._error(HTTPStatus.NOT_FOUND, f'no such endpoint {self.path!r}')
                return
            try:
                length = int(self.headers.get('Content-Length', ''))
            except ValueError:
                self._error(HTTPStatus.LENGTH_REQUIRED, 'Content-Length is required')
                return
            if length < 0 or length > server.max_body_bytes:
                self.close_connection = True
                self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                            f'a request may hold at most {server.max_body_bytes} bytes')
                return
            body = self.rfile.read(length)
            if not server.limiter.allow(self.client_address[0]):
                self._error(HTTPStatus.TOO_MANY_REQUESTS, 'too many questions; slow down')
                return
            try:
                question, at_s = validate_ask(body)
                reply = server.ask(question, at_s)
            except InvalidInputError as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
                return
            except RobotMemoryError as exc:
                log.warning('answering failed: %s', exc)
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
                return
            try:
                text = json.dumps(reply, allow_nan=False, default=str)
            except ValueError as exc:  # a non-finite number in an answer
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f'the answer is not JSON: {exc}')
                return
            self._send(HTTPStatus.OK, text)

        def _not_allowed(self) -> None:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, 'only GET and POST')

        do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed

    return Handler
