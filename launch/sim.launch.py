"""The built-in simulator with memory and planner: `ros2 launch robot_memory sim.launch.py`.

`ros2 launch robot_memory sim.launch.py rviz:=true`, then
`ros2 topic pub --once /question std_msgs/String "data: 'Where is my mug?'"`.
Without `ros2 launch`: `robot-memory bringup` starts the same graph in one process.
It includes `robot_memory.launch.py` (the check before any node, the DDS profile, memory_node,
planner_node, RViz; every argument of that file can be given here too) and adds the bridge.
"""

from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description import LaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    """Declare the simulator's arguments, include robot_memory.launch.py, add sim_bridge_node."""
    share = FindPackageShare('robot_memory')
    sim_params_file = LaunchConfiguration('sim_params_file')
    use_sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    bridge_overrides = {
        'use_sim_time': use_sim_time,
        'mode': LaunchConfiguration('mode'),
        'patrol_days': ParameterValue(LaunchConfiguration('patrol_days'), value_type=int),
        'world': LaunchConfiguration('world'),
        'seed': ParameterValue(LaunchConfiguration('seed'), value_type=int),
        'detector': LaunchConfiguration('detector'),
        'segmentation': LaunchConfiguration('segmentation'),
    }
    # Declared here: arguments of the simulator, and those whose default differs on a robot
    # (declared first, they win over the included file's defaults).
    arguments = [
        DeclareLaunchArgument(
            'sim_params_file',
            default_value=PathJoinSubstitution([share, 'config', 'sim.yaml']),
            description='Parameters of sim_bridge_node, and simulation overrides of the '
                        'other nodes (applied after params_file).'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='true',
            description='Run every node on the simulator clock (/clock).'),
        DeclareLaunchArgument(
            'rviz', default_value='auto',
            description='Start RViz with the memory view: true (fail if rviz2 is missing), '
                        'false, or auto (when rviz2 is installed).'),
        DeclareLaunchArgument(
            'respawn', default_value='false',
            description='Start memory_node again when it dies (a crash, an out-of-memory kill); '
                        'it reopens the same memory file.'),
        DeclareLaunchArgument(
            'mode', default_value='patrol',
            description='Simulator at start: idle, patrol or stream.'),
        DeclareLaunchArgument(
            'patrol_days', default_value='1', description='Days of patrols in patrol mode.'),
        DeclareLaunchArgument(
            'world', default_value='apartment',
            description='World kind (apartment, house, office) or a YAML world spec.'),
        DeclareLaunchArgument('seed', default_value='0', description='World seed.'),
        DeclareLaunchArgument(
            'detector', default_value='',
            description="Simulated detector errors: perfect, realistic, poor or a YAML file "
                        "('': as the scenario says)."),
        DeclareLaunchArgument(
            'segmentation', default_value='instance',
            description="What the simulated segmentation publishes: 'instance' ids with a label "
                        "map, or 'class' ids (mono16) as a semantic segmentation network."),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='Namespace of all topics of the graph (e.g. robot1).'),
    ]
    memory_graph = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([share, 'launch', 'robot_memory.launch.py'])),
        launch_arguments={
            'extra_params_file': sim_params_file,
            # memory_node reads what the simulated segmentation publishes (its classes)
            'segmentation': LaunchConfiguration('segmentation'),
            'label_space_file': PathJoinSubstitution([share, 'config', 'label_space_sim.yaml']),
            # One memory per simulated world: a file another world filled is not reused.
            'world_id': ['builtin:', LaunchConfiguration('world'), ':',
                         LaunchConfiguration('seed')],
        }.items())
    return LaunchDescription([
        *arguments,
        memory_graph,
        Node(package='robot_memory', executable='sim_bridge_node', name='sim_bridge_node',
             namespace=LaunchConfiguration('namespace'),
             parameters=[sim_params_file, bridge_overrides],
             output='screen', emulate_tty=True),
    ])
