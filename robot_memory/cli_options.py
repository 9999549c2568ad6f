"""Options that several `robot-memory` commands share, declared once so their help agrees."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ['DETECTOR_HELP', 'BackendOption', 'DetectorOption', 'HabitatConfigOption', 'JsonOption',
           'SceneOption', 'WorldOption']

JsonOption = Annotated[bool, typer.Option('--json', help='Print one JSON object.')]
WorldOption = Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')]

# --backend for the commands that simulate: the built-in world, or a Habitat household.
BackendOption = Annotated[str, typer.Option(
    help='builtin, or habitat (needs habitat-sim): --scene with a household of moving objects')]
SceneOption = Annotated[str, typer.Option(help='Habitat scene (.glb) for --backend habitat.')]
HabitatConfigOption = Annotated[str | None, typer.Option(
    help='HabitatConfig YAML for --backend habitat (config/habitat.yaml).')]

DETECTOR_HELP = ('Simulated detector: perfect, realistic (10 % of segments missed, 3 % '
                 'wrong class, 5 % wrong colour, 3 % wrong state), poor, or a YAML file of '
                 'miss_rate, confusion_rate, color_flip_rate, state_flip_rate.')
DetectorOption = Annotated[str, typer.Option(help=DETECTOR_HELP)]
