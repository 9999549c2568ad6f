"""The progress bar of the simulator, evaluations, benchmarks and panels: a transient rich bar,
or nothing.

Off where the command prints JSON (the bar would mix into the output); rich is imported only
when the bar is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ['StageBar']


class StageBar:
    """A transient progress bar over stages, one task at a time; a no-op when disabled.

    `counted`: the panels' bar, with done/total and the time elapsed, on the stderr console.
    """

    def __init__(self, enabled: bool, counted: bool = False) -> None:
        self.enabled = enabled
        self.counted = counted
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> StageBar:
        if self.enabled:
            self._progress = _counted_progress() if self.counted else _plain_progress()
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def stage(self, name: str, total: int) -> None:
        """Start the stage `name` of `total` steps, replacing the previous one."""
        if self._progress is not None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = self._progress.add_task(name, total=total)

    def advance(self, description: str | None = None) -> None:
        """Count one step of the stage; `description` replaces its label when given."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=description)


def _plain_progress() -> Progress:
    from rich.progress import Progress

    return Progress(transient=True)


def _counted_progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from robot_memory._console import console

    return Progress(TextColumn('{task.description}'), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)
