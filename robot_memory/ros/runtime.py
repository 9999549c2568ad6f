"""Spinning nodes until SIGINT, with a clean stop.

A node process handles SIGINT and SIGTERM itself instead of letting rclpy's handler shut the
context down at once: the signal only ends the spin loop, the nodes are destroyed while the
context is still valid (memory_node commits its file and its last log line still reaches
/rosout), and rclpy is shut down last.
"""

from __future__ import annotations

import faulthandler
import hashlib
import inspect
import signal
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import (
    Executor,
    ExternalShutdownException,
    MultiThreadedExecutor,
    SingleThreadedExecutor,
)
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from robot_memory.exceptions import InvalidInputError, RobotMemoryError

__all__ = ['CallbackGuard', 'run_node', 'shutdown', 'spin_nodes', 'stop_on_signals',
           'teardown_progress']

# How often the spin loop looks at its stop flag (s): a signal ends it within this.
STOP_POLL_S = 0.1
# A node process asked to stop is gone once its teardown has made no progress for this long
# (s), even if tearing down its DDS entities hangs (seen once in CI: planner_node, after
# memory_node had been killed, was still alive 15 s after SIGINT and SIGTERM). Progress
# (`teardown_progress`: a queued frame ingested, the memory file closed, a node destroyed)
# re-arms it: a fixed 4 s from the signal killed a memory_node that was still ingesting its
# queue and closing its file on a loaded 2-core machine ("process has died [exit code 1]").
TEARDOWN_TIMEOUT_S = 4.0
_teardown_armed = threading.Event()


def teardown_progress() -> None:
    """Say the teardown is still moving: the watchdog waits `TEARDOWN_TIMEOUT_S` again.

    Costs nothing before a stop was asked for; callable from any thread.
    """
    if _teardown_armed.is_set():
        faulthandler.dump_traceback_later(TEARDOWN_TIMEOUT_S, exit=True)


# A guard logs an unforeseen callback error at most this often per topic (s); the count moves
# every time. A stream of bad messages at camera rate would otherwise flood /rosout.
ERROR_LOG_PERIOD_S = 10.0
# Refused payloads remembered per guard (digests, ~100 bytes each): a poisoned transient-local
# message replayed by every new publisher match is logged once, then counted and skipped.
REMEMBERED_REFUSALS = 4096


class CallbackGuard:
    """The one wrapper around every subscription callback of a node: no message, however
    crafted, raises into the executor.

    `count(kind, key)` is called once per message the guard stops: kind `'malformed'` for an
    `InvalidInputError` (key `<topic>:<reason>`, the reason of a `FrameRejected` or
    `'invalid'`), `'callback_errors'` for any other exception (key `<topic>:<ExcType>`). A
    malformed payload is logged once per distinct payload; an unforeseen error at most every
    `ERROR_LOG_PERIOD_S` per topic, with its traceback the first time. Where the wrapped topic
    carries text (`payload` gives it), the digest of a refused payload is remembered, and the
    same payload again is counted under its first reason without being parsed.
    """

    def __init__(self, logger: Any, count: Callable[[str, str], None]) -> None:
        self._logger = logger
        self._count = count
        self._refused: OrderedDict[bytes, str] = OrderedDict()
        self._last_error_log: dict[str, float] = {}
        self._lock = threading.Lock()

    def wrap(self, topic: str, callback: Callable[..., None],
             payload: Callable[[Any], Any] | None = None) -> Callable[..., None]:
        """`callback` guarded; rclpy still passes MessageInfo if the callback takes it."""
        def guarded(msg: Any) -> None:
            self.call(topic, callback, payload, msg)

        def guarded_with_info(msg: Any, info: Any) -> None:
            self.call(topic, callback, payload, msg, info)

        return guarded_with_info if _takes_two(callback) else guarded

    def call(self, topic: str, callback: Callable[..., None],
             payload: Callable[[Any], Any] | None, msg: Any, *rest: Any) -> None:
        """Run `callback(msg, *rest)`; count and log what it raises instead of raising."""
        digest = None
        try:
            if payload is not None:
                digest = _digest(topic, payload(msg))
                if self._skip(topic, digest):
                    return
            callback(msg, *rest)
        except InvalidInputError as exc:
            reason = str(getattr(exc, 'reason', 'invalid'))
            self._count('malformed', f'{topic}:{reason}')
            self._refuse(topic, digest, reason, str(exc))
        except Exception as exc:  # the executor must outlive any message, even unforeseen
            self._count('callback_errors', f'{topic}:{type(exc).__name__}')
            self._log_error(topic, exc)

    def skip_known(self, topic: str, data: Any) -> bool:
        """Whether `data` was refused on `topic` before (then counted again under its reason):
        for a callback that must see every message (sequence numbers) before it skips."""
        return self._skip(topic, _digest(topic, data))

    def _skip(self, topic: str, digest: bytes) -> bool:
        with self._lock:
            reason = self._refused.get(digest)
        if reason is None:
            return False
        self._count('malformed', f'{topic}:{reason}')
        return True

    def remember(self, topic: str, data: Any, reason: str, detail: str) -> None:
        """Log a payload a callback refused (and counted) itself, once; skip it next time."""
        self._refuse(topic, _digest(topic, data), reason, detail)

    def _refuse(self, topic: str, digest: bytes | None, reason: str, detail: str) -> None:
        with self._lock:
            if digest is not None:
                if digest in self._refused:
                    return
                self._refused[digest] = reason
                if len(self._refused) > REMEMBERED_REFUSALS:
                    self._refused.popitem(last=False)
            elif not self._due(f'malformed:{topic}'):
                return
        self._logger.warning(f'ignoring a malformed {topic} message ({detail[:300]}); the '
                             'same payload again is counted without a word')

    def _due(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._last_error_log.get(key, -ERROR_LOG_PERIOD_S) < ERROR_LOG_PERIOD_S:
            return False
        self._last_error_log[key] = now
        return True

    def _log_error(self, topic: str, exc: Exception) -> None:
        with self._lock:
            first = f'error:{topic}' not in self._last_error_log
            if not self._due(f'error:{topic}'):
                return
        detail = ''.join(traceback.format_exception(exc)) if first else repr(exc)[:300]
        self._logger.error(f'a {topic} message broke its callback (counted under '
                           f'callback_errors; the node goes on): {detail}')


def _takes_two(callback: Callable[..., None]) -> bool:
    """Whether rclpy would pass MessageInfo to `callback` (its own test)."""
    try:
        inspect.signature(callback).bind(object(), object())
    except TypeError:
        return False
    return True


def _digest(topic: str, data: Any) -> bytes:
    """A payload's fingerprint on one topic (text refused as a label map may be a layout)."""
    raw = data if isinstance(data, bytes | bytearray) else str(data).encode('utf-8', 'replace')
    return hashlib.blake2b(raw, digest_size=16, person=topic.encode()[:16]).digest()


def shutdown(context: Context | None = None) -> None:
    """Shut rclpy down unless it already is.

    rclpy's SIGINT handler shuts the context down from its own thread, so a shutdown racing it
    finds the context already gone (`RCLError`, a `RuntimeError`): that is the stop we wanted.
    """
    try:
        rclpy.try_shutdown(context=context)
    except RuntimeError:
        if context is not None and context.ok():
            raise
        if context is None and rclpy.ok():
            raise


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """Within the block, SIGINT and SIGTERM set the event it gives instead of interrupting.

    Main thread only (Python's rule for signal handlers); the previous handlers come back
    after the block.
    """
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def spin_nodes(nodes: Sequence[Node], multi_threaded: bool = False,
               stop: threading.Event | None = None) -> None:
    """Spin `nodes` until `stop` is set or rclpy shuts down; stop the executor and destroy them.

    Nodes are destroyed in reverse order. When `stop` ended the loop the context is still
    valid, so what they log while closing reaches /rosout.

    One node per process spins single-threaded: rclpy's multi-threaded executor costs so much
    per callback that it lost camera messages at rates the single-threaded one keeps up with
    (measured here: ~960 small messages/s). The nodes keep slow work off the executor
    themselves. Several nodes in one process (bringup) need the multi-threaded executor so a
    simulator step does not hold up the memory node's receiving.
    """
    stop = stop if stop is not None else threading.Event()
    executor: Executor = (MultiThreadedExecutor(num_threads=2 * len(nodes)) if multi_threaded
                          else SingleThreadedExecutor())
    for node in nodes:
        executor.add_node(node)
    try:
        while not stop.is_set() and executor.context.ok():
            executor.spin_once(timeout_sec=STOP_POLL_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # rclpy 7.1's Executor.shutdown does not wait for callbacks still running on a
        # multi-threaded executor's thread pool (it tests the flag it has just set) and
        # destroys the guard condition they signal when they end: each then prints "exception
        # was never retrieved: cannot use Destroyable". Drain the pool first.
        pool = getattr(executor, '_executor', None)
        if pool is not None:
            pool.shutdown(wait=True)
        teardown_progress()
        executor.shutdown(timeout_sec=10.0)
        for node in reversed(nodes):
            teardown_progress()
            try:
                node.destroy_node()
            except Exception as exc:  # keep destroying the others
                node.get_logger().error(f'destroying {node.get_name()} failed: {exc!r}')


def run_node(name: str, factory: Callable[[], Node], args: list[str] | None = None) -> int:
    """The body of a node's `main`: init, build, spin until SIGINT, shut down; an exit code.

    A node that cannot start (a params file that does not parse, bad parameters, an
    unreadable memory file) logs why in one line and returns 2; SIGINT or SIGTERM at any point
    is a clean stop (exit 0): the handlers are in place before the node is built, so a signal
    that comes while it loads stops it as soon as it is built, whatever the parent process
    left SIGINT set to.
    """
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except RuntimeError as exc:  # rcl's RCLError: e.g. a params file that is no valid YAML
        reason = ' '.join(str(exc).split(', at ')[0].split())
        rclpy.logging.get_logger(name).fatal(f'cannot start: {reason}')
        return 2
    try:
        with stop_on_signals() as stop:
            try:
                node = factory()
            except (RobotMemoryError, OSError) as exc:
                rclpy.logging.get_logger(name).fatal(f'cannot start: {exc}')
                return 2
            except ExternalShutdownException:
                return 0
            threading.Thread(target=_exit_if_teardown_hangs, args=(stop,), daemon=True,
                             name='teardown_watchdog').start()
            spin_nodes([node], stop=stop)
    finally:
        shutdown()
    return 0


def _exit_if_teardown_hangs(stop: threading.Event) -> None:
    """Once `stop` is set, arm `faulthandler`'s watchdog, a C thread that needs no Python
    lock: if the teardown then makes no progress (`teardown_progress`) for
    `TEARDOWN_TIMEOUT_S`, it writes every thread's stack to stderr (where the teardown hung)
    and exits with status 1."""
    stop.wait()
    _teardown_armed.set()
    teardown_progress()
