"""A top-down map of a world: rooms, doors, furniture, objects and the robot's path (PNG)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from robot_memory.sim.truth import ObjectTruth
from robot_memory.sim.world import COLORS, World

__all__ = ['save_topdown']

_ROOM_FILL = {
    'kitchen': '#f6e7c8', 'living_room': '#dfeccf', 'bedroom': '#d9e4f2', 'bathroom': '#d5f0ef',
    'study': '#eadcf0', 'hallway': '#eeeeee', 'dining_room': '#f5d9d3',
}


def save_topdown(world: World, path: str | Path,
                 objects: Mapping[str, ObjectTruth] | None = None,
                 trail_xy: Sequence[tuple[float, float]] = (), title: str = '',
                 dpi: int = 110) -> Path:
    """Draw the world (and objects as given, and a robot path) to a PNG file."""
    import matplotlib

    matplotlib.use('Agg', force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = world.bounds_m
    width = max(x1 - x0, 1.0)
    height = max(y1 - y0, 1.0)
    scale = 10.0 / max(width, height)
    fig = Figure(figsize=(max(width * scale, 4.0) + 1.0, max(height * scale, 4.0) + 0.6))
    ax = fig.add_subplot(1, 1, 1)
    for room in world.rooms:
        ax.add_patch(Rectangle((room.x0, room.y0), room.x1 - room.x0, room.y1 - room.y0,
                               facecolor=_ROOM_FILL.get(room.category, '#ffffff'),
                               edgecolor='#333333', linewidth=1.5))
        cx, _ = room.center_m
        ax.text(cx, room.y1 - 0.25, room.name, ha='center', va='top', fontsize=7,
                color='#333333')
    for door in world.doors:
        x, y = door.center_m
        half = door.width_m / 2
        xs, ys = ([x - half, x + half], [y, y]) if door.axis == 'x' else ([x, x], [y - half,
                                                                                  y + half])
        ax.plot(xs, ys, color='white', linewidth=3.0, solid_capstyle='butt')
    for furn in world.furniture:
        (fx0, fy0, _), (fx1, fy1, _) = furn.box_m
        rgb = tuple(c / 255 for c in COLORS.get(furn.color, (150, 150, 150)))  # '': unknown
        ax.add_patch(Rectangle((fx0, fy0), fx1 - fx0, fy1 - fy0, facecolor=rgb, alpha=0.55,
                               edgecolor='#555555', linewidth=0.6))
    for fact in (objects or {}).values():
        if fact.mobility == 'furniture':
            continue
        x, y, _ = fact.position_m
        rgb = tuple(c / 255 for c in COLORS.get(fact.color, (0, 0, 0)))
        ax.plot([x], [y], marker='o', markersize=3.5, color=rgb, markeredgecolor='black',
                markeredgewidth=0.3)
    if len(trail_xy) > 1:
        trail_xs, trail_ys = zip(*trail_xy, strict=True)
        ax.plot(trail_xs, trail_ys, color='#d62728', linewidth=1.0, alpha=0.8)
    for place in world.places:
        ax.plot([place.position_m[0]], [place.position_m[1]], marker='x', markersize=3,
                color='#1f77b4')
    ax.set_xlim(x0 - 0.3, x1 + 0.3)
    ax.set_ylim(y0 - 0.3, y1 + 0.3)
    ax.set_aspect('equal')
    ax.set_xlabel('x [m]')
    ax.set_ylabel('y [m]')
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
