"""Progress of the simulator, evaluations, benchmarks and panels, always on stderr.

On a terminal: a transient rich bar with done/total, the time elapsed and an estimate of the
time left. Elsewhere (a pipe, a CI log, `nohup`): one plain line every few seconds with the
same figures, so a nine-minute `eval laeqa --json > result.json` is not silent. stdout is left
to the results (JSON included); rich is imported only when a bar is drawn.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ['EVERY_S_ENV', 'StageBar', 'Working', 'format_duration', 'progress_line']

# Seconds between progress lines when stderr is not a terminal (0: a line at every step).
EVERY_S_ENV = 'ROBOT_MEMORY_PROGRESS_EVERY_S'
_EVERY_S = 5.0


class StageBar:
    """Progress over stages, one at a time; a no-op when disabled.

    `stream`: where it goes (default stderr); a bar when it is a terminal, timed lines
    otherwise. `every_s`: seconds between lines (default: $ROBOT_MEMORY_PROGRESS_EVERY_S,
    else 5).
    """

    def __init__(self, enabled: bool, *, stream: TextIO | None = None,
                 every_s: float | None = None) -> None:
        self.enabled = enabled
        self._stream = stream
        self._every_s = every_s
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._lines: _Lines | None = None

    def __enter__(self) -> StageBar:
        if not self.enabled:
            return self
        stream = self._stream if self._stream is not None else sys.stderr
        if _is_terminal(stream):
            self._progress = _bar(stream)
            self._progress.__enter__()
        else:
            self._lines = _Lines(stream, _every_s(self._every_s))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self._lines is not None:
            self._lines.close()

    def stage(self, name: str, total: int) -> None:
        """Start the stage `name` of `total` steps, replacing the previous one."""
        if self._progress is not None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = self._progress.add_task(name, total=total)
        if self._lines is not None:
            self._lines.stage(name, total)

    def advance(self, description: str | None = None) -> None:
        """Count one step of the stage; `description` replaces its label when given."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=description)
        if self._lines is not None:
            self._lines.advance(description)


class Working:
    """A task without a count: a spinner on a terminal; elsewhere a line when it starts, every
    few seconds (the latest `update` and the time elapsed), and when it ends.

    `update(note)` says what it is doing now.
    """

    def __init__(self, message: str, *, stream: TextIO | None = None,
                 every_s: float | None = None) -> None:
        self.message = message
        self._stream = stream
        self._every_s = every_s
        self._status: Any = None
        self._lines: _Lines | None = None

    def __enter__(self) -> Working:
        stream = self._stream if self._stream is not None else sys.stderr
        if _is_terminal(stream):
            self._status = _console_for(stream).status(self.message, spinner='dots')
            self._status.__enter__()
        else:
            self._lines = _Lines(stream, _every_s(self._every_s), counted=False)
            self._lines.stage(self.message.rstrip('…'), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
        if self._lines is not None:
            if exc[0] is None:
                self._lines.finish()
            self._lines.close()

    def update(self, note: str) -> None:
        """Say what it is doing now."""
        if self._status is not None:
            self._status.update(note)
        if self._lines is not None:
            self._lines.note(note)


def format_duration(seconds: float) -> str:
    """A duration as people read it: '45 s', '3 min 05 s', '1 h 02 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f'{s} s'
    if s < 3600:
        return f'{s // 60} min {s % 60:02d} s'
    return f'{s // 3600} h {s % 3600 // 60:02d} min'


def progress_line(stage: str, note: str, done: int, total: int, elapsed_s: float,
                  finished: bool = False) -> str:
    """One line of progress: the stage, done/total, the time spent and the time left.

    `total` 0: a task without a count (the stage, its note and the time spent).
    """
    if total <= 0:
        head = f'{stage}: {note}' if note else stage
        if finished:
            return f'{head}, done in {format_duration(elapsed_s)}'
        return f'{head}, {format_duration(elapsed_s)} elapsed'
    share = done / total
    head = f'{stage} {done}/{total} ({100 * share:.0f} %'
    head += f'; {note})' if note and note != stage else ')'
    spent = f'{format_duration(elapsed_s)} elapsed'
    if finished or done >= total:
        return f'{head}, done in {format_duration(elapsed_s)}'
    if done == 0:
        return f'{head}, {spent}, time left known after the first step'
    left = elapsed_s / done * (total - done)
    return f'{head}, {spent}, about {format_duration(left)} left'


class _Lines:
    """Plain progress lines: at each stage's start and end, and every `every_s` between.

    `counted`: the stage has a number of steps (`advance`); otherwise it only has notes.
    """

    def __init__(self, stream: TextIO, every_s: float, counted: bool = True) -> None:
        self._stream = stream
        self._every_s = every_s
        self._counted = counted
        self._lock = threading.Lock()
        self._stage = ''
        self._note = ''
        self._done = 0
        self._total = 0
        self._start = time.monotonic()
        self._last_line = self._start
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if every_s > 0:
            # A ticker, not the steps, sets the pace: one step may take minutes (a patrol day).
            self._ticker = threading.Thread(target=self._tick, name='progress-lines',
                                            daemon=True)
            self._ticker.start()

    def stage(self, name: str, total: int) -> None:
        with self._lock:
            self._stage, self._note, self._done, self._total = name, '', 0, total
            self._start = time.monotonic()
            self._write()

    def advance(self, description: str | None) -> None:
        with self._lock:
            self._done += 1
            if description:
                self._note = description
            if self._every_s <= 0 or self._done >= self._total:
                self._write()

    def note(self, note: str) -> None:
        with self._lock:
            self._note = note  # shown by the next timed line: notes may come 5 times a second
            if self._every_s <= 0:
                self._write()

    def finish(self) -> None:
        with self._lock:
            self._write(finished=True)

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)

    def _tick(self) -> None:
        while not self._stop.wait(min(self._every_s, 1.0)):
            with self._lock:
                due = time.monotonic() - self._last_line >= self._every_s
                running = not self._counted or self._done < self._total
                if due and self._stage and running:
                    self._write()

    def _write(self, finished: bool = False) -> None:
        now = time.monotonic()
        self._last_line = now
        total = self._total if self._counted else 0
        try:
            self._stream.write(progress_line(self._stage, self._note, self._done, total,
                                             now - self._start, finished) + '\n')
            self._stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe must not end the run: progress is a courtesy


def _every_s(given: float | None) -> float:
    if given is not None:
        return given
    try:
        value = float(os.environ.get(EVERY_S_ENV, _EVERY_S))
    except ValueError:
        return _EVERY_S
    return value if math.isfinite(value) and value >= 0 else _EVERY_S


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _console_for(stream: TextIO) -> Console:
    from rich.console import Console

    from robot_memory._console import console

    # The CLI's stderr console when the bar is on stderr: what it prints meanwhile (a model
    # loading, warnings) goes above the bar instead of through it.
    return console if stream is sys.stderr else Console(file=stream)


def _bar(stream: TextIO) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn('{task.description}'), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=_console_for(stream),
                    transient=True)
