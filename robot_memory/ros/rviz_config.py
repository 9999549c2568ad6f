"""What an RViz config subscribes to and publishes, checked against a running graph (no rclpy).

`rviz_topics` reads the displays and tools of an `.rviz` file that name a topic; each comes
with the message type its class takes and the QoS it asks for. `graph_problems` compares them
with what the graph offers (topic types and publisher QoS, as `ros2 topic info -v` shows
them): a display whose topic nobody publishes, with another type, or with a QoS the
publishers cannot serve (a reliable display on a best-effort publisher, a transient-local
display on a volatile one — RViz would show nothing, silently), and a tool that publishes
where nobody listens.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robot_memory.config import read_yaml
from robot_memory.exceptions import InvalidInputError

__all__ = ['RVIZ_MESSAGE_TYPES', 'RvizTopic', 'graph_problems', 'rviz_topics']

# The message type each rviz_default_plugins class with a topic takes (or, for tools, sends).
RVIZ_MESSAGE_TYPES = {
    'rviz_default_plugins/MarkerArray': 'visualization_msgs/msg/MarkerArray',
    'rviz_default_plugins/Marker': 'visualization_msgs/msg/Marker',
    'rviz_default_plugins/Image': 'sensor_msgs/msg/Image',
    'rviz_default_plugins/Camera': 'sensor_msgs/msg/Image',
    'rviz_default_plugins/Path': 'nav_msgs/msg/Path',
    'rviz_default_plugins/Odometry': 'nav_msgs/msg/Odometry',
    'rviz_default_plugins/Pose': 'geometry_msgs/msg/PoseStamped',
    'rviz_default_plugins/Map': 'nav_msgs/msg/OccupancyGrid',
    'rviz_default_plugins/PointCloud2': 'sensor_msgs/msg/PointCloud2',
    'rviz_default_plugins/SetGoal': 'geometry_msgs/msg/PoseStamped',
    'rviz_default_plugins/SetInitialPose': 'geometry_msgs/msg/PoseWithCovarianceStamped',
    'rviz_default_plugins/PublishPoint': 'geometry_msgs/msg/PointStamped',
}
_TOOLS = {'rviz_default_plugins/SetGoal', 'rviz_default_plugins/SetInitialPose',
          'rviz_default_plugins/PublishPoint'}


@dataclass(frozen=True, slots=True)
class RvizTopic:
    """One topic of an RViz config: a display reads it, or a tool publishes on it."""

    name: str
    plugin: str
    topic: str
    msg_type: str
    publishes: bool
    reliable: bool
    transient_local: bool
    namespaces: tuple[str, ...] = ()  # marker namespaces a marker display lists


def _walk(displays: Sequence[Any]) -> Iterator[Mapping[str, Any]]:
    for d in displays or ():
        if isinstance(d, Mapping):
            yield d
            yield from _walk(d.get('Displays', ()))  # display groups nest


def rviz_topics(path: str | Path) -> list[RvizTopic]:
    """The topics of an RViz config's displays and tools; raises `InvalidInputError`."""
    path = Path(path)
    data = read_yaml(path, 'RViz config')
    manager = data.get('Visualization Manager') if isinstance(data, Mapping) else None
    if not isinstance(manager, Mapping):
        raise InvalidInputError(f'{path}: no "Visualization Manager" section')
    entries = [(d, False) for d in _walk(manager.get('Displays', ()))]
    entries += [(t, True) for t in manager.get('Tools', ()) or () if isinstance(t, Mapping)]
    out = []
    for entry, is_tool in entries:
        topic = entry.get('Topic')
        if not isinstance(topic, Mapping) or not topic.get('Value'):
            continue
        plugin = str(entry.get('Class', ''))
        if plugin not in RVIZ_MESSAGE_TYPES:
            raise InvalidInputError(f'{path}: display {entry.get("Name", plugin)!r} of class '
                                    f'{plugin!r} has a topic of unknown type; known: '
                                    f'{", ".join(sorted(RVIZ_MESSAGE_TYPES))}')
        out.append(RvizTopic(
            str(entry.get('Name', plugin.split('/')[-1])), plugin, str(topic['Value']),
            RVIZ_MESSAGE_TYPES[plugin], is_tool or plugin in _TOOLS,
            topic.get('Reliability Policy', 'Reliable') == 'Reliable',
            topic.get('Durability Policy', 'Volatile') == 'Transient Local',
            tuple(entry.get('Namespaces') or ())))
    return out


def graph_problems(topics: Sequence[RvizTopic], types: Mapping[str, Sequence[str]],
                   publishers: Mapping[str, Sequence[tuple[bool, bool]]],
                   subscribers: Mapping[str, int]) -> list[str]:
    """What in `topics` the graph cannot serve; empty when every display and tool works.

    `types`: topic → its types; `publishers`: topic → (reliable, transient_local) of each
    publisher; `subscribers`: topic → how many subscribe.
    """
    problems = []
    for t in topics:
        where = f'{t.name} ({t.topic})'
        if t.topic not in types:
            problems.append(f'{where}: no such topic in the graph')
            continue
        if t.msg_type not in types[t.topic]:
            problems.append(f'{where}: the graph has {", ".join(types[t.topic])}, '
                            f'the display takes {t.msg_type}')
            continue
        if t.publishes:
            if not subscribers.get(t.topic):
                problems.append(f'{where}: the tool publishes where nobody subscribes')
            continue
        offered = publishers.get(t.topic, ())
        if not offered:
            problems.append(f'{where}: nobody publishes it')
        for reliable, transient in offered:
            if t.reliable and not reliable:
                problems.append(f'{where}: a reliable display on a best-effort publisher')
            if t.transient_local and not transient:
                problems.append(f'{where}: a transient-local display on a volatile publisher')
    return problems
