"""Reading an RViz config's topics and checking them against a graph (no ROS needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.rviz_config import RvizTopic, graph_problems, rviz_topics

SHIPPED = Path(__file__).parents[1] / 'rviz' / 'robot_memory.rviz'
MARKERS = 'visualization_msgs/msg/MarkerArray'


def test_the_shipped_config_reads_its_displays_and_tools() -> None:
    topics = {t.topic: t for t in rviz_topics(SHIPPED)}
    assert set(topics) == {'/memory/markers', '/planner/markers', '/camera/color/image_raw',
                           '/goal_pose'}
    assert topics['/memory/markers'].msg_type == MARKERS
    assert topics['/memory/markers'].transient_local and topics['/memory/markers'].reliable
    assert topics['/goal_pose'].publishes
    assert topics['/goal_pose'].msg_type == 'geometry_msgs/msg/PoseStamped'
    assert not topics['/camera/color/image_raw'].reliable


@pytest.mark.parametrize(('text', 'error'), [
    ('a: [unclosed', r'cannot read the RViz config .*: not valid YAML \(line 1\)'),
    ('- 1\n- 2\n', 'no "Visualization Manager" section'),
    ('Visualization Manager:\n  Displays:\n    - Class: acme/Laser\n      Name: L\n'
     '      Topic: {Value: /scan}\n', "display 'L' of class 'acme/Laser' has a topic of "
     'unknown type'),
])
def test_a_bad_config_is_a_clear_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / 'bad.rviz'
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=error):
        rviz_topics(path)


def test_nested_display_groups_are_read(tmp_path: Path) -> None:
    path = tmp_path / 'group.rviz'
    path.write_text('Visualization Manager:\n  Displays:\n    - Class: rviz_common/Group\n'
                    '      Displays:\n        - Class: rviz_default_plugins/Path\n'
                    '          Name: route\n          Topic: {Value: /plan}\n')
    assert [(t.name, t.msg_type) for t in rviz_topics(path)] == [('route', 'nav_msgs/msg/Path')]


def test_what_the_graph_cannot_serve_is_named() -> None:
    def display(topic: str, reliable: bool = True, latched: bool = True) -> RvizTopic:
        return RvizTopic('M', 'rviz_default_plugins/MarkerArray', topic, MARKERS, False,
                         reliable, latched)

    goal = RvizTopic('G', 'rviz_default_plugins/SetGoal', '/goal_pose',
                     'geometry_msgs/msg/PoseStamped', True, True, False)
    types = {'/m': [MARKERS], '/s': ['std_msgs/msg/String'], '/goal_pose':
             ['geometry_msgs/msg/PoseStamped'], '/quiet': [MARKERS]}
    problems = graph_problems(
        [display('/m'), display('/s'), display('/none'), display('/quiet'), goal],
        types, {'/m': [(False, False)], '/quiet': []}, {'/goal_pose': 0})
    assert problems == [
        'M (/m): a reliable display on a best-effort publisher',
        'M (/m): a transient-local display on a volatile publisher',
        'M (/s): the graph has std_msgs/msg/String, the display takes ' + MARKERS,
        'M (/none): no such topic in the graph',
        'M (/quiet): nobody publishes it',
        'G (/goal_pose): the tool publishes where nobody subscribes',
    ]
    assert graph_problems([display('/m', latched=False)], types, {'/m': [(True, True)]},
                          {}) == []
