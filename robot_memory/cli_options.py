"""Options that several `robot-memory` commands share, declared once so their help agrees."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = [
    'DETECTOR_HELP',
    'EXIT_ERROR',
    'EXIT_NOT_ANSWERED',
    'EXIT_NOT_UNDERSTOOD',
    'AttributesOption',
    'BackendOption',
    'DetectorOption',
    'HabitatConfigOption',
    'JsonOption',
    'SceneOption',
    'WorldOption',
    'WorldStyleOption',
    'check_stamp_option',
    'exit_code_of_answer',
]

# Exit codes of `ask` and `parse` (README "Asking questions"); 0: answered.
EXIT_NOT_ANSWERED = 1  # understood, but memory holds no answer (e.g. an object it never saw)
EXIT_ERROR = 2  # a bad command line, file or value: one error line on stderr
EXIT_NOT_UNDERSTOOD = 3  # no question form fits the words, or two fit equally: rephrase it


def exit_code_of_answer(understood: bool, answered: bool) -> int:
    """The exit code of `ask` for an answer: 0, EXIT_NOT_ANSWERED or EXIT_NOT_UNDERSTOOD."""
    if not understood:
        return EXIT_NOT_UNDERSTOOD
    return 0 if answered else EXIT_NOT_ANSWERED

JsonOption = Annotated[bool, typer.Option('--json', help='Print one JSON object.')]
WorldOption = Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')]
WorldStyleOption = Annotated[str, typer.Option(
    help='home: objects vary in size, shade and pattern (some in matched sets), states show, '
         'the light follows the hour and the room; flat: the catalogue world of earlier '
         'releases (one look per class, states invisible, one light).')]
AttributesOption = Annotated[str, typer.Option(
    help="pixels: colour and state read by memory from the camera's pixels; labels: handed "
         'over with each segment from the truth (the comparison mode of earlier releases).')]

# --backend for the commands that simulate: the built-in world, or a Habitat household.
BackendOption = Annotated[str, typer.Option(
    help='builtin, or habitat (needs habitat-sim): --scene with a household of moving objects')]
SceneOption = Annotated[str, typer.Option(help='Habitat scene (.glb) for --backend habitat.')]
HabitatConfigOption = Annotated[str | None, typer.Option(
    help='HabitatConfig YAML for --backend habitat (config/habitat.yaml).')]

DETECTOR_HELP = ('Simulated detector: perfect, realistic (10 % of segments missed, 3 % '
                 'wrong class, masks bleeding 2 px, 3 % split, 3 % merged, 10 % spurious), '
                 'poor, or a YAML file of miss_rate, confusion_rate, bleed_px, split_rate, '
                 'merge_rate, spurious_rate (color_flip_rate, state_flip_rate with '
                 '--attributes labels).')
DetectorOption = Annotated[str, typer.Option(help=DETECTOR_HELP)]


def check_stamp_option(ctx: Any, param: Any, value: float | None) -> float | None:
    """Typer callback of the options that take a stamp: refuse one the calendar cannot show."""
    from robot_memory.core.clock import check_stamp

    return None if value is None else check_stamp(value, f'--{param.name}')


def check_at_least_one(ctx: Any, param: Any, value: int | None) -> int | None:
    """Typer callback of counts that must be positive (days of patrol, seeds)."""
    from robot_memory.exceptions import InvalidInputError

    if value is not None and value < 1:
        raise InvalidInputError(f'--{param.name.replace("_", "-")} must be at least 1, '
                                f'got {value}')
    return value
