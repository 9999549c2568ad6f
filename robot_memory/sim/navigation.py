"""Robot navigation on the place graph: geodesic paths, patrol room choice and tour order."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from robot_memory.exceptions import InvalidInputError, UnknownNodeError
from robot_memory.sim.world import World, place_edges

__all__ = ['Navigator']


class Navigator:
    """Shortest paths between places and the rooms a patrol visits."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._graph = nx.Graph()
        for place in world.places:
            self._graph.add_node(place.place_id)
        for a, b, length in place_edges(world):
            self._graph.add_edge(a, b, length_m=length)
        self._view = {room.name: world.places_in(room.name)[0].place_id for room in world.rooms}

    @property
    def dock(self) -> str:
        """Where the robot starts and returns: the hallway's main view place."""
        return self._view.get('hallway', self.world.places[0].place_id)

    def view_place(self, room: str) -> str:
        """The main viewpoint of a room (its place nearest the room centre)."""
        try:
            return self._view[room]
        except KeyError:
            valid = ', '.join(sorted(self._view))
            raise InvalidInputError(f'unknown room {room!r}; valid: {valid}') from None

    def path(self, start: str, goal: str) -> tuple[list[str], float]:
        """Geodesic shortest path between two places and its length in metres."""
        for node in (start, goal):
            if node not in self._graph:
                valid = ', '.join(sorted(self._graph)[:8])
                raise UnknownNodeError(f'no place {node!r}; valid include: {valid}, …')
        try:
            length, nodes = nx.single_source_dijkstra(self._graph, start, goal, weight='length_m')
        except nx.NetworkXNoPath:
            raise UnknownNodeError(f'no traversable path from {start!r} to {goal!r}') from None
        return list(nodes), float(length)

    def reachable_rooms(self, start: str | None = None) -> set[str]:
        """Rooms with at least one place reachable from `start` (default: the dock)."""
        component = nx.node_connected_component(self._graph, start or self.dock)
        return {self.world.place(p).room for p in component}

    def patrol_rooms(self, seed: int, day: int, session: int, fraction: float) -> list[str]:
        """Rooms a patrol visits: `fraction` of them (at least one), drawn from the seed."""
        if not 0.0 < fraction <= 1.0:
            raise InvalidInputError(f'patrol fraction must be in (0, 1], got {fraction}')
        rooms = [r.name for r in self.world.rooms]
        n = max(1, round(fraction * len(rooms)))
        rng = np.random.default_rng([seed, 11, day, session])
        return sorted(rooms[i] for i in rng.choice(len(rooms), size=n, replace=False))

    def tour(self, start: str, rooms: list[str]) -> list[str]:
        """View places of the rooms in a greedy nearest-next order from `start`."""
        todo = {self.view_place(r) for r in rooms}
        order: list[str] = []
        here = start
        lengths = dict(nx.single_source_dijkstra_path_length(self._graph, here, weight='length_m'))
        while todo:
            nxt = min(sorted(todo), key=lambda p: lengths.get(p, math.inf))
            order.append(nxt)
            todo.discard(nxt)
            here = nxt
            lengths = dict(nx.single_source_dijkstra_path_length(self._graph, here,
                                                                  weight='length_m'))
        return order
