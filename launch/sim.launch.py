"""The built-in simulator with memory and planner: `ros2 launch robot_memory sim.launch.py`.

`ros2 launch robot_memory sim.launch.py rviz:=true`, then
`ros2 topic pub --once /question std_msgs/String "data: 'Where is my mug?'"`.
Without `ros2 launch`: `robot-memory bringup` starts the same graph in one process.
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from robot_memory.ros.launch_support import RESPAWN_DELAY_S, preflight


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments, then sim_bridge_node, memory_node, planner_node and RViz."""
    share = FindPackageShare('robot_memory')
    params_file = LaunchConfiguration('params_file')
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
    # What memory_node changes with the simulator's segmentation (label space: its classes).
    memory_overrides = {
        'use_sim_time': use_sim_time,
        'segmentation': LaunchConfiguration('segmentation'),
        'label_space_file': PathJoinSubstitution([share, 'config', 'label_space_sim.yaml']),
    }
    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'robot_memory.yaml']),
            description='Parameters of memory_node and planner_node.'),
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
            'rviz_config',
            default_value=PathJoinSubstitution([share, 'rviz', 'robot_memory.rviz']),
            description='RViz configuration file.'),
        DeclareLaunchArgument(
            'shared_memory', default_value='true',
            description='Load the Fast DDS shared-memory profile for large images.'),
        DeclareLaunchArgument(
            'fastdds_profile',
            default_value=PathJoinSubstitution([share, 'config', 'fastdds_shm.xml']),
            description='Fast DDS XML profile loaded when shared_memory is true.'),
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
    namespace = LaunchConfiguration('namespace')
    rviz = Node(package='rviz2', executable='rviz2', name='rviz2',
                arguments=['-d', LaunchConfiguration('rviz_config')],
                parameters=[{'use_sim_time': use_sim_time}],
                output='screen')
    return LaunchDescription([
        *arguments,
        # Before any node: fail with nothing started, or add RViz where it can run.
        OpaqueFunction(function=preflight, args=[rviz]),
        # Fast DDS 2.x (Jazzy) reads the first variable, Fast DDS 3.x (Kilted on) the second.
        *(SetEnvironmentVariable(variable, LaunchConfiguration('fastdds_profile'),
                                 condition=IfCondition(LaunchConfiguration('shared_memory')))
          for variable in ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE')),
        Node(package='robot_memory', executable='sim_bridge_node', name='sim_bridge_node',
             namespace=namespace, parameters=[sim_params_file, bridge_overrides],
             output='screen', emulate_tty=True),
        Node(package='robot_memory', executable='memory_node', name='memory_node',
             respawn=LaunchConfiguration('respawn'), respawn_delay=RESPAWN_DELAY_S,
             namespace=namespace,
             parameters=[params_file, sim_params_file, memory_overrides],
             output='screen', emulate_tty=True),
        Node(package='robot_memory', executable='planner_node', name='planner_node',
             namespace=namespace,
             parameters=[params_file, sim_params_file, {'use_sim_time': use_sim_time}],
             output='screen', emulate_tty=True),
    ])
