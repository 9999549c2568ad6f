"""`HabitatConfig`: everything the Habitat backend can be told (`config/habitat.yaml`).

Files are read with `robot_memory.config.read_yaml` and built with `robot_memory.config.build`
after a lenient first pass of their own (see `HabitatConfig.from_dict`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from robot_memory.config import build, errors_name, read_yaml
from robot_memory.core.types import CameraIntrinsics
from robot_memory.exceptions import InvalidInputError

__all__ = ['ROOM_SOURCES', 'SEMANTIC_CHECKS', 'HabitatConfig']

ROOM_SOURCES = ('auto', 'regions', 'navmesh')
SEMANTIC_CHECKS = ('error', 'warn', 'off')


@dataclass(frozen=True, slots=True)
class HabitatConfig:
    """Everything the Habitat backend can be told (`config/habitat.yaml`, see docs/habitat.md).
    """

    scene_path: str  # a .glb / .basis.glb scene, or a scene id of the dataset config
    scene_dataset_config: str = ''  # *.scene_dataset_config.json (semantics for HM3D, MP3D)
    sensor_width_px: int = 640
    sensor_height_px: int = 480
    sensor_hfov_deg: float = 90.0
    sensor_height_m: float = 1.25  # camera above the floor (see sensor_height_above)
    sensor_height_above: str = 'floor'  # floor (found below the dock) | navmesh (raw)
    sensor_pitch_deg: float = 0.0  # downwards
    agent_radius_m: float = 0.18
    agent_height_m: float = 1.5
    place_spacing_m: float = 2.0  # least distance between the view places of a room
    place_clearance_m: float = 0.4  # least distance from a view place to an obstacle
    max_places_per_room: int = 3
    max_edge_m: float = 4.0  # longest traversable edge between two places
    room_source: str = 'auto'  # regions (semantic scene) | navmesh (segmented) | auto
    recompute_navmesh: bool = False  # rebuild it for this agent (always if the scene has none)
    door_width_m: float = 1.0  # for room segmentation of the navmesh (room_segmentation.py)
    seed: int = 0
    speed_mps: float = 0.5
    turn_rate_rad_s: float = 0.8
    capture_every_m: float = 1.5
    look_around_views: int = 8
    patrol_fraction: float = 0.6
    patrol_start_hours: tuple[float, ...] = (9.0, 19.0)
    gpu_device_id: int = 0
    objects: int = 0  # movable objects the activity model moves between patrols (0: static)
    teleport_snap_m: float = 0.5  # farthest a teleport target off the navmesh is moved onto it
    semantic_check: str = 'error'  # error | warn | off: semantic ids vs depth geometry (docs)

    def __post_init__(self) -> None:
        if not str(self.scene_path).strip():
            raise InvalidInputError('scene_path must name a Habitat scene')
        positive = ('sensor_width_px', 'sensor_height_px', 'sensor_hfov_deg', 'sensor_height_m',
                    'agent_radius_m', 'agent_height_m', 'place_spacing_m', 'max_places_per_room',
                    'max_edge_m', 'door_width_m', 'speed_mps', 'turn_rate_rad_s',
                    'capture_every_m', 'look_around_views')
        for name in positive:
            if not getattr(self, name) > 0:
                raise InvalidInputError(f'{name} must be positive, got {getattr(self, name)}')
        if not 0 < self.sensor_hfov_deg < 180:
            raise InvalidInputError(f'sensor_hfov_deg must be in (0, 180), '
                                    f'got {self.sensor_hfov_deg}')
        if self.sensor_height_above not in ('floor', 'navmesh'):
            raise InvalidInputError(f'sensor_height_above {self.sensor_height_above!r}; '
                                    f'valid: floor, navmesh')
        if self.semantic_check not in SEMANTIC_CHECKS:
            raise InvalidInputError(f'semantic_check {self.semantic_check!r}; '
                                    f'valid: {", ".join(SEMANTIC_CHECKS)}')
        if self.objects < 0:
            raise InvalidInputError(f'objects must be ≥ 0, got {self.objects}')
        if not self.teleport_snap_m >= 0:
            raise InvalidInputError(f'teleport_snap_m must be ≥ 0, got {self.teleport_snap_m}')
        if self.room_source not in ROOM_SOURCES:
            raise InvalidInputError(f'room_source {self.room_source!r}; '
                                    f'valid: {", ".join(ROOM_SOURCES)}')
        if not 0 < self.patrol_fraction <= 1:
            raise InvalidInputError(f'patrol_fraction must be in (0, 1], '
                                    f'got {self.patrol_fraction}')

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """Pinhole intrinsics of Habitat's camera sensors."""
        return CameraIntrinsics.from_fov(self.sensor_width_px, self.sensor_height_px,
                                         self.sensor_hfov_deg)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HabitatConfig:
        """Build a config from a mapping; unknown keys are an error listing the valid ones.

        Values are taken leniently first (`'4'` serves for 4, `'false'` for False, `$VARS`
        and `~` expand in paths), then built and checked by `robot_memory.config.build`.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidInputError(f'unknown Habitat config keys {unknown}; '
                                    f'valid: {", ".join(known)}')
        if 'scene_path' not in data:
            raise InvalidInputError('the Habitat config needs scene_path')
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            default = known[key].default
            try:
                if key == 'patrol_start_hours':
                    kwargs[key] = tuple(float(h) for h in value)
                elif key in ('scene_path', 'scene_dataset_config'):
                    # $VARS and ~ let one file serve machines with data in different places.
                    kwargs[key] = os.path.expanduser(os.path.expandvars(str(value or '')))
                elif isinstance(default, bool):
                    kwargs[key] = _boolean(value)
                elif isinstance(default, str):
                    kwargs[key] = str(value)
                elif isinstance(default, int):
                    kwargs[key] = int(value)
                else:
                    kwargs[key] = float(value)
            except (TypeError, ValueError):
                raise InvalidInputError(f'Habitat config {key}: bad value {value!r}') from None
        return build(cls, kwargs, 'Habitat config')

    @classmethod
    def from_yaml(cls, path: str | Path) -> HabitatConfig:
        """Read `config/habitat.yaml` (a flat mapping of these fields)."""
        data = read_yaml(path, 'Habitat config')
        if not isinstance(data, Mapping):
            raise InvalidInputError(f'{path}: the Habitat config is a mapping of settings')
        with errors_name(path):
            return cls.from_dict(data)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('true', 'yes', '1'):
        return True
    if text in ('false', 'no', '0'):
        return False
    raise ValueError(value)
