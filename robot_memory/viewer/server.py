"""`robot-memory serve`: the viewer live over HTTP, with an ask box, read-only on the store.

Built on the standard library's `HTTPServer`: the server has four routes, speaks JSON and
listens on localhost, so a framework would add a dependency without removing any code (Flask's
own server is also a development server). What a public-facing server needs and this one does
instead:

- it binds to 127.0.0.1 unless told otherwise, takes no file path or command from the client
  (the memory file is fixed when it starts), and sends a Content-Security-Policy;
- it answers only requests whose `Host` (and `Origin`, when one is sent) names this server:
  localhost, the bound address, or a name given with `--allow-host`. A page on another site
  that rebinds its own DNS name to 127.0.0.1 sends its own name as `Host`, so it reads nothing
  (DNS rebinding), and a form on another site cannot post questions (an ask must also be
  `application/json`, which a cross-site form cannot send without a CORS preflight);
- a fixed pool of `workers` threads serves the connections, `max_pending` more wait for one,
  and any beyond that are answered 503 at once: a thousand slow clients cost sockets, not a
  thousand threads. Each request must arrive whole (head and body) within `request_deadline_s`
  of its connection, however slowly its bytes trickle (a per-read timeout does not stop a
  client sending one byte every few seconds);
- questions are answered one at a time (the memory is one mutable object and answering is
  CPU work under the GIL, so answering in parallel would not answer more); at most
  `max_waiting_asks` wait for their turn and others get 503 with `Retry-After`, as does any
  request that waited `memory_wait_s` for the memory. A client may ask at most `asks_per_s`
  questions (a token bucket; 429 beyond);
- every field is validated (bounded JSON, times within `AT_S_RANGE`): a bad request is a 400
  naming the bad value, and anything unforeseen is logged and answered 500 — a request is
  never left without an answer.

The memory file is opened read-only (a reader beside a writing `memory_node`, WAL mode): new
committed events are applied to the loaded memory when the page polls `/api/version`.

Routes: `GET /` (the page), `GET /api/view` (its data), `GET /api/version` (the last event's
sequence number), `POST /api/ask` (`{"question": str, "at_s": float | null}`).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from robot_memory.bounded import check_number, loads
from robot_memory.core import MemoryStore
from robot_memory.core.planner import PlannerParams, VoIPlanner
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.viewer.data import view_data
from robot_memory.viewer.page import content_policy, data_json, render_page

__all__ = ['AT_S_RANGE', 'HostPolicy', 'MemoryServer', 'RateLimiter', 'ServerBusyError',
           'validate_ask']

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 300
AT_S_RANGE = (0.0, 32503680000.0)
"""Times a question may be asked at: 1970 to 3000-01-01. Far from datetime's year 9999, so that
date arithmetic on them cannot overflow (1e18, -1e12 and 1e30 each raised deep in the parser
and dropped the connection: red-team issue #29, row 8)."""
LOCAL_NAMES = ('localhost', '127.0.0.1', '::1')


class ServerBusyError(RobotMemoryError):
    """The server has more work waiting than it takes; the client should retry later."""


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


class HostPolicy:
    """Which `Host` and `Origin` headers name this server (the defence against DNS rebinding).

    Allowed: the localhost names, the address the server is bound to, and `extra` names. When
    bound to every interface (0.0.0.0 or ::) any IP address is allowed too: the server cannot
    know which of its addresses a client used, and an IP address in `Host` cannot come from
    DNS rebinding (the attacker's page would have to be served from that very address).
    """

    def __init__(self, bound: str, port: int, extra: Iterable[str] = ()) -> None:
        self.port = port
        # In order (localhost first) and without repeats, as error messages list them.
        self.shown = tuple(dict.fromkeys(_host_name(n) for n in (*LOCAL_NAMES, bound, *extra)
                                         if n))
        self.names = frozenset(self.shown)
        self.any_ip = bound in ('', '0.0.0.0', '::')

    def allows(self, name: str) -> bool:
        """Whether `name` (a host name or IP address, no port) is this server's."""
        name = _host_name(name)
        if name in self.names:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or self.any_ip

    def check_host(self, header: str | None) -> None:
        """Raise `InvalidInputError` unless the `Host` header names this server."""
        if not header:
            raise InvalidInputError('the request has no Host header')
        name = _split_host(header)
        if name is None or not self.allows(name):
            raise InvalidInputError(f'host {header[:100]!r} is not this server '
                                    f'({self._valid()})')

    def check_origin(self, header: str | None) -> None:
        """Raise `InvalidInputError` unless the `Origin` header, if sent, is this server's."""
        if header is None:
            return  # not a browser's cross-origin request: the Host check decides
        try:
            origin = urlsplit(header)
            port = origin.port or 80
        except ValueError:
            origin, port = None, 0
        if origin is None or origin.scheme != 'http' or origin.hostname is None \
                or not self.allows(origin.hostname) or port != self.port:
            raise InvalidInputError(f'origin {header[:100]!r} is not this server '
                                    f'(http://<name>:{self.port}; {self._valid()})')

    def _valid(self) -> str:
        names = ', '.join(self.shown) + (', any IP address' if self.any_ip else '')
        return f'valid: {names}; add names with --allow-host'


def _host_name(name: str) -> str:
    return name.strip().lower().rstrip('.').removeprefix('[').removesuffix(']')


def _split_host(header: str) -> str | None:
    """The name in a `Host` header (`name`, `name:port`, `[v6]:port`); None if malformed."""
    header = header.strip()
    if header.startswith('['):
        name, bracket, rest = header[1:].partition(']')
        return name if bracket and (not rest or (rest[0] == ':' and rest[1:].isdigit())) \
            else None
    name, colon, port = header.partition(':')
    return name if not colon or port.isdigit() else None


def validate_ask(body: bytes) -> tuple[str, float | None]:
    """The question and optional time of an ask request; raises `InvalidInputError`."""
    request = loads(body, 'the request', max_depth=2)
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
    if at_s is None:
        return question.strip(), None
    if isinstance(at_s, bool) or not isinstance(at_s, int | float):
        raise InvalidInputError(f'"at_s" must be a number of seconds or null, got {at_s!r:.60}')
    low, high = AT_S_RANGE
    return question.strip(), check_number(at_s, '"at_s"', low=low, high=high)


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes until a deadline, however slowly they trickle in."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self.sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Past the deadline only bytes that have already arrived are read (timeout 0): a
        # request that waited in the queue while its bytes came is still served.
        self.sock.settimeout(max(self.deadline - time.monotonic(), 0.0))
        try:
            return self.sock.recv_into(buffer)
        except (BlockingIOError, TimeoutError):
            raise TimeoutError('the request did not arrive whole before its deadline') \
                from None


_BUSY = json.dumps({'ok': False, 'error': 'the server has too many connections; retry later'})
_BUSY_REPLY = (f'HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json; '
               f'charset=utf-8\r\nContent-Length: {len(_BUSY)}\r\nRetry-After: 1\r\n'
               f'Connection: close\r\n\r\n{_BUSY}').encode()


class _PooledHTTPServer(HTTPServer):
    """An HTTP server with `workers` threads; `max_pending` connections wait, others get 503."""

    # The listen backlog. With the default 5, 450 clients connecting at once took 66 s to get
    # in (dropped SYNs are retried after 1, 3, 7… s) and 70 of 200 parallel asks were reset
    # (none with 128).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 workers: int, max_pending: int, request_deadline_s: float) -> None:
        self.request_deadline_s, self.max_pending = request_deadline_s, max_pending
        # Unbounded so that the stop sentinels never block: only the accept loop puts
        # connections in, and it checks the size first.
        self.pending: queue.Queue[tuple[Any, Any, float] | None] = queue.Queue()
        self.refused = 0
        super().__init__(address, handler)
        self.workers = [threading.Thread(target=self._work, name=f'robot_memory-serve-{i}',
                                         daemon=True) for i in range(workers)]
        for worker in self.workers:
            worker.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.pending.qsize() < self.max_pending:
            self.pending.put((request, client_address,
                              time.monotonic() + self.request_deadline_s))
        else:
            self.refused += 1
            request.setblocking(False)
            # Read what has come so that closing with unread bytes does not reset the 503 away.
            with contextlib.suppress(OSError):
                request.recv(65536)
            with contextlib.suppress(OSError):
                request.send(_BUSY_REPLY)
            self.shutdown_request(request)

    def _work(self) -> None:
        while (item := self.pending.get()) is not None:
            request, client_address, deadline = item
            try:
                # The handler takes the deadline as a fourth argument (see `_handler`).
                cast(Any, self.RequestHandlerClass)(request, client_address, self, deadline)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception('serving %s failed', client_address)

    def server_close(self) -> None:
        super().server_close()
        while True:  # connections still waiting: closed, not served
            try:
                item = self.pending.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.shutdown_request(item[0])
        for _ in self.workers:
            self.pending.put(None)
        end = time.monotonic() + 2.0
        for worker in self.workers:
            worker.join(max(end - time.monotonic(), 0.0))


class MemoryServer:
    """The viewer and ask box for one memory file, served over HTTP."""

    def __init__(self, db: str | Path, host: str = '127.0.0.1', port: int = 8080,
                 embeddings: bool = True, max_body_bytes: int = 4096,
                 asks_per_s: float = 2.0, ask_burst: int = 10,
                 now_s: float | None = None, allowed_hosts: Iterable[str] = (),
                 workers: int = 16, max_pending: int = 256, request_deadline_s: float = 10.0,
                 max_waiting_asks: int = 8, memory_wait_s: float = 20.0) -> None:
        # Asks wait in workers; half the workers stay for the page and for refusals. Measured
        # (`bench serve`, 200 asks at once on the demo's memory, ~25 ms an answer): 8 waiting
        # answered 30 (p95 0.22 s), 24 waiting of 32 workers answered 42 (p95 0.48 s): a
        # longer queue mostly adds waiting. The others get a 503 within 70 ms (p95), which
        # the page retries after Retry-After.
        from robot_memory.service import MemoryService, MemoryServiceParams

        if workers < 1 or max_pending < 0 or max_waiting_asks < 1 or \
                not request_deadline_s > 0 or not memory_wait_s > 0:
            raise InvalidInputError(
                f'workers ({workers}) and max_waiting_asks ({max_waiting_asks}) must be >= 1, '
                f'max_pending ({max_pending}) >= 0, request_deadline_s ({request_deadline_s}) '
                f'and memory_wait_s ({memory_wait_s}) > 0')
        self.db = Path(db)
        self.store = MemoryStore(self.db, read_only=True)
        self.service = MemoryService(MemoryServiceParams(use_embeddings=embeddings),
                                     memory=self.store.load())
        self.now_s = now_s  # questions without a time are asked at this stamp (default: latest)
        self.max_body_bytes = max_body_bytes
        self.limiter = RateLimiter(asks_per_s, ask_burst)
        self.lock = threading.Lock()
        self.memory_wait_s = memory_wait_s
        self._ask_slots = threading.BoundedSemaphore(max_waiting_asks)
        self.title = f'robot memory: {self.db.name}'
        self._page: tuple[int, str, str] | None = None  # (seq, page, data JSON)
        self.requests = 0
        self.rejected = 0
        self._serving = False
        if not ipaddress.ip_address(_resolve(host)).is_loopback:
            log.warning('serving %s on %s: anyone who can reach this address can read the '
                        'memory and ask questions', self.db, host)
        self.httpd = _PooledHTTPServer((host, port), _handler(self), workers, max_pending,
                                       request_deadline_s)
        self.hosts = HostPolicy(host, self.httpd.server_address[1], allowed_hosts)

    @property
    def url(self) -> str:
        """Where the page is served."""
        host, port = self.httpd.server_address[:2]
        return f'http://{host}:{port}/'

    @property
    def refused(self) -> int:
        """Connections answered 503 because every worker was busy and the queue full."""
        return self.httpd.refused

    # ------------------------------------------------------------- memory
    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the memory (one request at a time); `ServerBusyError` after `memory_wait_s`."""
        if not self.lock.acquire(timeout=self.memory_wait_s):
            raise ServerBusyError(f'the memory was busy for {self.memory_wait_s:g} s; '
                                  f'retry later')
        try:
            yield
        finally:
            self.lock.release()

    def refresh(self) -> int:
        """Apply events committed since the last look; returns the last sequence number."""
        with self._turn():
            self._apply_new_events()
            return self.store.loaded_seq

    def page(self) -> tuple[str, str]:
        """The live page and its data JSON, rebuilt only when memory changed."""
        with self._turn():
            self._apply_new_events()
            seq = self.store.loaded_seq
            if self._page is None or self._page[0] != seq:
                data = view_data(self.service.memory, title=self.title)
                self._page = (seq, render_page(data, live=True), data_json(data))
            return self._page[1], self._page[2]

    def ask(self, question: str, at_s: float | None) -> dict[str, Any]:
        """Answer a question as of `at_s` (default now), with the looks the planner would take.

        Raises `ServerBusyError` when `max_waiting_asks` questions are already waiting or this
        one waited `memory_wait_s` for its turn.
        """
        if not self._ask_slots.acquire(blocking=False):
            raise ServerBusyError('too many questions are waiting; retry later')
        try:
            with self._turn():
                self._apply_new_events()
                return self._answer(question, at_s)
        finally:
            self._ask_slots.release()

    def _apply_new_events(self) -> None:
        memory = self.service.memory
        for seq, event in self.store.iter_events(after_seq=self.store.loaded_seq):
            memory.apply(event)
            self.store.loaded_seq = seq
        memory.drain()

    def _answer(self, question: str, at_s: float | None) -> dict[str, Any]:
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
                evidence['room_name'] = self.service.engine.room_name(evidence['room_id'], now)
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
        self._serving = True
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> MemoryServer:
        """Serve from a background thread (tests, benchmarks)."""
        threading.Thread(target=self.serve_forever, name='robot_memory-serve',
                         daemon=True).start()
        return self

    def shutdown(self) -> None:
        """Stop serving and close the store."""
        if self._serving:  # `HTTPServer.shutdown` waits forever for a loop never started
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
        return socket.gethostbyname(host)
    return host


def _handler(server: MemoryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = 'robot_memory'
        sys_version = ''
        write_timeout_s = 10.0  # a client that does not take its reply for this long is dropped

        def __init__(self, request: Any, client_address: Any, httpd: Any,
                     deadline: float) -> None:
            self.deadline = deadline
            super().__init__(request, client_address, httpd)

        def setup(self) -> None:
            super().setup()
            self.rfile.close()  # the plain reader: it would keep the socket's file open
            self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self.deadline))

        def log_message(self, format: str, *args: Any) -> None:
            log.debug('%s %s', self.address_string(), format % args)

        def _send(self, status: HTTPStatus, body: str, kind: str = 'application/json',
                  csp: str = "default-src 'none'", retry_after_s: int | None = None) -> None:
            data = body.encode('utf-8')
            self.connection.settimeout(self.write_timeout_s)
            self.send_response(status)
            self.send_header('Content-Type', f'{kind}; charset=utf-8')
            self.send_header('Content-Length', str(len(data)))
            self.send_header('Cache-Control', 'no-store')
            self.send_header('X-Content-Type-Options', 'nosniff')
            self.send_header('Content-Security-Policy', csp)
            if retry_after_s is not None:
                self.send_header('Retry-After', str(retry_after_s))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: HTTPStatus, message: str) -> None:
            server.rejected += 1
            self.close_connection = True
            self._send(status, json.dumps({'ok': False, 'error': message}),
                       retry_after_s=1 if status == HTTPStatus.SERVICE_UNAVAILABLE else None)

        def _answer(self, route: Any) -> None:
            """Run `route`; every failure becomes a JSON error reply, never a dropped socket."""
            server.requests += 1
            path = self.path.split('?', 1)[0]
            try:
                server.hosts.check_host(self.headers.get('Host'))
                server.hosts.check_origin(self.headers.get('Origin'))
            except InvalidInputError as exc:
                self._error(HTTPStatus.FORBIDDEN, str(exc))
                return
            try:
                route(path)
            except TimeoutError as exc:
                self._error(HTTPStatus.REQUEST_TIMEOUT, str(exc))
            except InvalidInputError as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
            except ServerBusyError as exc:
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
            except RobotMemoryError as exc:
                log.warning('serving %s failed: %s', path, exc)
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
            except ConnectionError as exc:  # the client went away: nobody to answer
                log.debug('serving %s: %s', path, exc)
                self.close_connection = True
            except Exception as exc:
                log.exception('serving %s failed', path)
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR,
                            f'the server failed: {type(exc).__name__}: {str(exc)[:200]}')

        def do_GET(self) -> None:
            self._answer(self._get)

        def do_POST(self) -> None:
            self._answer(self._post)

        def _get(self, path: str) -> None:
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

        def _post(self, path: str) -> None:
            if path != '/api/ask':
                self._error(HTTPStatus.NOT_FOUND, f'no such endpoint {path!r}')
                return
            kind = self.headers.get('Content-Type', '')
            if kind.split(';', 1)[0].strip().lower() != 'application/json':
                self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                            f'Content-Type must be application/json, got {kind[:100]!r}')
                return
            try:
                length = int(self.headers.get('Content-Length', ''))
            except ValueError:
                self._error(HTTPStatus.LENGTH_REQUIRED, 'Content-Length is required')
                return
            if length < 0 or length > server.max_body_bytes:
                self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                            f'a request may hold at most {server.max_body_bytes} bytes, '
                            f'got {length}')
                return
            body = self.rfile.read(length)
            if not server.limiter.allow(self.client_address[0]):
                self._error(HTTPStatus.TOO_MANY_REQUESTS, 'too many questions; slow down')
                return
            question, at_s = validate_ask(body)
            text = json.dumps(server.ask(question, at_s), allow_nan=False, default=str)
            self._send(HTTPStatus.OK, text)

        def _not_allowed(self) -> None:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, 'only GET and POST')

        do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed

    return Handler
