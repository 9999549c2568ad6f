"""What the parser can name: the `Vocabulary` of object labels, colours, rooms and states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from robot_memory.exceptions import InvalidInputError
from robot_memory.language.lexicon import (
    DEFAULT_COLORS,
    DEFAULT_LABELS,
    DEFAULT_ROOMS,
    DEFAULT_STATES,
)

if TYPE_CHECKING:
    from robot_memory.core.scene_graph import SceneGraph


def _default_rooms() -> dict[str, str]:
    return {name: f'room:{name}' for name in DEFAULT_ROOMS}


def human_name(name: str) -> str:
    """'room:living_room' / 'living_room' → 'living room'."""
    name = name.split(':', 1)[-1]
    return ' '.join(name.replace('_', ' ').replace('-', ' ').lower().split())


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the parser can name: object classes, colours, rooms (name → room id), states."""

    labels: tuple[str, ...] = DEFAULT_LABELS
    colors: tuple[str, ...] = DEFAULT_COLORS
    rooms: Mapping[str, str] = field(default_factory=_default_rooms)
    states: tuple[str, ...] = DEFAULT_STATES

    def __post_init__(self) -> None:
        for kind, values in (('label', self.labels), ('colour', self.colors),
                             ('room name', tuple(self.rooms)),
                             ('room id', tuple(self.rooms.values())), ('state', self.states)):
            bad = [v for v in values if not isinstance(v, str) or not human_name(v)]
            if bad:
                raise InvalidInputError(f'vocabulary {kind}s must be non-empty strings: {bad!r}')

    @classmethod
    def from_names(cls, labels: Iterable[str] = (), rooms: Iterable[str] | Mapping[str, str] = (),
                   *, colors: Iterable[str] = DEFAULT_COLORS,
                   states: Iterable[str] = DEFAULT_STATES,
                   include_defaults: bool = False) -> Vocabulary:
        """Build from class labels and room names ('living_room' → 'room:living_room').

        Room names may be given as a mapping name → room id instead. With `include_defaults`
        the default household labels and rooms are added to the given ones.
        """
        if isinstance(rooms, Mapping):
            room_map = {str(k): str(v) for k, v in rooms.items()}
        else:
            room_map = {name.split(':', 1)[-1]: name if name.startswith('room:') else
                        f'room:{name}' for name in rooms}
        all_labels = set(labels)
        if include_defaults:
            all_labels |= set(DEFAULT_LABELS)
            room_map = {**_default_rooms(), **room_map}
        return cls(tuple(sorted(all_labels)), tuple(dict.fromkeys(colors)), room_map,
                   tuple(dict.fromkeys(states)))

    @classmethod
    def from_scene_graph(cls, graph: SceneGraph, *, include_defaults: bool = True) -> Vocabulary:
        """Build from a scene graph: its object labels, colours, states and named rooms.

        A room is reachable by its name and, when no other room shares it, by its category.
        """
        labels, colors, states = set(), set(DEFAULT_COLORS), set(DEFAULT_STATES)
        for object_id in graph.objects:
            attrs = graph.get_object(object_id)
            labels.add(attrs.label)
            colors.update([attrs.color] if attrs.color else [])
            states.update([attrs.state] if attrs.state else [])
        room_map: dict[str, str] = {}
        categories: dict[str, list[str]] = {}
        for room_id in graph.rooms:
            room = graph.get_room(room_id)
            room_map[room.name or room_id.split(':', 1)[-1]] = room_id
            categories.setdefault(room.category, []).append(room_id)
        for category, ids in categories.items():
            if category and len(ids) == 1:
                room_map.setdefault(category, ids[0])
        if include_defaults:
            labels |= set(DEFAULT_LABELS)
        return cls(tuple(sorted(labels)), tuple(sorted(colors)), room_map,
                   tuple(sorted(states)))

    def room_name(self, room_id: str) -> str:
        """A readable name of a room id ('room:living_room' → 'living room')."""
        for name, rid in self.rooms.items():
            if rid == room_id:
                return human_name(name)
        return human_name(room_id)
