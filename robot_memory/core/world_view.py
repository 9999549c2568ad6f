"""Views of episodic memory: the world at one time, what changed between two, a session.

`EpisodicMemory.at`, `diff` and `instances` return these; they hold copies and never change
the memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from robot_memory.core.object_history import ObjectFacts, ObjectState, graph_node_id
from robot_memory.core.scene_graph import EdgeKind, ObjectAttributes, SceneGraph
from robot_memory.exceptions import UnknownNodeError

__all__ = ['Episode', 'WorldDiff', 'WorldView']


@dataclass(frozen=True, slots=True)
class Episode:
    """One robot session: a run of memory activity without a long gap."""

    index: int
    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True, slots=True)
class WorldDiff:
    """What changed between two times; `apply` turns the first view's facts into the second's."""

    t1: float
    t2: float
    added: dict[str, ObjectFacts]
    removed: dict[str, ObjectFacts]
    moved: dict[str, tuple[ObjectFacts, ObjectFacts]]
    state_changed: dict[str, tuple[ObjectFacts, ObjectFacts]]

    def apply(self, facts: dict[str, ObjectFacts]) -> dict[str, ObjectFacts]:
        """Apply this diff to the facts of `at(t1)`; gives those of `at(t2)`."""
        out = {k: v for k, v in facts.items() if k not in self.removed}
        out.update(self.added)
        for changes in (self.moved, self.state_changed):
            out.update({k: after for k, (_, after) in changes.items()})
        return out

    def is_empty(self) -> bool:
        """Whether nothing changed."""
        return not (self.added or self.removed or self.moved or self.state_changed)

    def summary(self) -> dict[str, list[str]]:
        """Object ids per change kind, sorted."""
        return {
            'added': sorted(self.added),
            'removed': sorted(self.removed),
            'moved': sorted(self.moved),
            'state_changed': sorted(self.state_changed),
        }


class WorldView:
    """Read-only view of the world as memory knew it at `stamp_s`."""

    def __init__(self, stamp_s: float, objects: dict[str, ObjectState],
                 missing: dict[str, ObjectState], layout: SceneGraph) -> None:
        self.stamp_s = stamp_s
        self._objects = objects
        self._missing = missing
        self._layout = layout

    @property
    def objects(self) -> dict[str, ObjectState]:
        """Objects present at this time, by id."""
        return dict(self._objects)

    @property
    def missing(self) -> dict[str, ObjectState]:
        """Objects known but not where memory last had them (last known state)."""
        return dict(self._missing)

    def has_object(self, object_id: str) -> bool:
        """Whether the object is present at this time."""
        return object_id in self._objects

    def find_object(self, object_id: str) -> ObjectState | None:
        """A present or missing object's state, or None."""
        return self._objects.get(object_id) or self._missing.get(object_id)

    def get_object(self, object_id: str) -> ObjectState:
        """A present or missing object's state; raises `UnknownNodeError`."""
        state = self.find_object(object_id)
        if state is None:
            raise UnknownNodeError(f'memory knew no object {object_id!r} at t={self.stamp_s}')
        return state

    def in_room(self, room_id: str) -> list[ObjectState]:
        """Present objects in a room, by id."""
        return [s for _, s in sorted(self._objects.items()) if s.room_id == room_id]

    def count(self, label: str, room_id: str | None = None) -> int:
        """Present objects of a class, optionally in one room."""
        return sum(1 for s in self._objects.values()
                   if s.label == label and (room_id is None or s.room_id == room_id))

    def facts(self) -> dict[str, ObjectFacts]:
        """Facts of the present objects, for comparison and diffs."""
        return {k: s.facts for k, s in self._objects.items()}

    def scene_graph(self) -> SceneGraph:
        """The full layered scene graph at this time: the layout plus present objects."""
        graph = self._layout.copy()
        for object_id, s in sorted(self._objects.items()):
            room = s.room_id if s.room_id and graph.has_node(s.room_id) else None
            attrs = ObjectAttributes(label=s.label, position_m=s.position_m or (0.0, 0.0, 0.0),
                                     color=s.color, state=s.state, mobility=s.mobility)
            graph.add_object(graph_node_id(object_id), attrs, room)
        for object_id, s in sorted(self._objects.items()):
            if s.support is None:
                continue
            relation, other = s.support
            kind = EdgeKind.INSIDE if relation == 'in' else EdgeKind.SUPPORTED_BY
            if other in self._objects:
                graph.add_edge(kind, graph_node_id(object_id), graph_node_id(other))
        return graph

    def __len__(self) -> int:
        return len(self._objects)
