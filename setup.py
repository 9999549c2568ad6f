"""ament_python package setup: works with colcon in a ROS 2 workspace and with plain pip."""

from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

package_name = 'robot_memory'


def tree(folder: str) -> list[tuple[str, list[str]]]:
    """Data-file entries installing `folder` recursively under share/robot_memory/."""
    entries: dict[str, list[str]] = {}
    for path in sorted(Path(folder).rglob('*')):
        if path.is_file() and '__pycache__' not in path.parts:
            entries.setdefault(str(Path('share', package_name, path.parent)), []).append(
                str(path))
    return sorted(entries.items())


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['tests', 'tests.*']),
    package_data={package_name: ['py.typed', 'viewer/assets/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*')),
        ('share/' + package_name + '/rviz', glob('rviz/*.rviz')),
        *tree('sim'),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='robot_memory developers',
    maintainer_email='robot-memory@users.noreply.github.com',
    description='Long-term episodic memory for mobile robots: layered 3D scene graph, '
                'short-term object-state buffer, value-of-information planner.',
    license='Apache-2.0',
    python_requires='>=3.10',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'robot-memory = robot_memory.cli:main',
            'sim_bridge_node = robot_memory.ros.sim_bridge_node:main',
            'memory_node = robot_memory.ros.memory_node:main',
            'planner_node = robot_memory.ros.planner_node:main',
        ],
    },
)
