"""memory_node + planner_node (+ RViz): `ros2 launch robot_memory robot_memory.launch.py`.

Camera topics can be remapped to a driver's names, e.g.
`color_topic:=/camera/camera/color/image_raw depth_topic:=/camera/camera/depth/image_rect_raw`.
`sim.launch.py` includes this file and adds the simulator: its parameter file
(`extra_params_file`), its segmentation (`segmentation`, `label_space_file`) and `namespace`.
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.launch_context import LaunchContext
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from robot_memory.ros.launch_support import MEMORY_CLOSE_S, RESPAWN_DELAY_S, preflight

# (launch argument, topic inside the nodes, default, description)
TOPIC_ARGUMENTS = (
    ('color_topic', 'camera/color/image_raw', 'camera/color/image_raw',
     'Colour images (rgb8 or bgr8).'),
    ('depth_topic', 'camera/depth/image_rect', 'camera/depth/image_rect',
     'Depth images registered to colour (32FC1 metres or 16UC1 millimetres).'),
    ('semantic_topic', 'camera/semantic/image_raw', 'camera/semantic/image_raw',
     'Instance-id images (32SC1, 16UC1 or 8UC1).'),
    ('labels_topic', 'camera/semantic/labels', 'camera/semantic/labels',
     'Instance id to class JSON (std_msgs/String, transient-local).'),
    ('camera_info_topic', 'camera/color/camera_info', 'camera/color/camera_info',
     'Camera intrinsics (sensor_msgs/CameraInfo).'),
    ('pose_topic', 'camera/pose', 'camera/pose',
     'Camera optical-frame pose in map (geometry_msgs/PoseStamped).'),
    ('odom_topic', 'odom', 'odom', 'Robot odometry in the map frame, for arrival checks.'),
    ('goal_topic', 'goal_pose', 'goal_pose', 'Where the planner sends goals (Nav2: goal_pose).'),
)


# memory_node parameters a caller may set over the parameter files ('' leaves the files' value)
MEMORY_OVERRIDES = ('segmentation', 'label_space_file', 'world_id', 'other_world')


def memory_and_planner(context: LaunchContext) -> list[Node]:
    """memory_node and planner_node, with the parameter files and overrides given."""
    use_sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    remappings = [(topic, LaunchConfiguration(name)) for name, topic, _, _ in TOPIC_ARGUMENTS]
    namespace = LaunchConfiguration('namespace')
    files = [LaunchConfiguration('params_file')]
    if LaunchConfiguration('extra_params_file').perform(context):
        files.append(LaunchConfiguration('extra_params_file'))
    memory_overrides = {'use_sim_time': use_sim_time, **{
        name: LaunchConfiguration(name) for name in MEMORY_OVERRIDES
        if LaunchConfiguration(name).perform(context)}}
    return [
        Node(package='robot_memory', executable='memory_node', name='memory_node',
             respawn=LaunchConfiguration('respawn'), respawn_delay=RESPAWN_DELAY_S,
             sigterm_timeout=str(MEMORY_CLOSE_S), sigkill_timeout=str(MEMORY_CLOSE_S),
             namespace=namespace, parameters=[*files, memory_overrides],
             remappings=remappings, output='screen', emulate_tty=True),
        Node(package='robot_memory', executable='planner_node', name='planner_node',
             namespace=namespace, parameters=[*files, {'use_sim_time': use_sim_time}],
             remappings=remappings, output='screen', emulate_tty=True),
    ]


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments, then memory_node, planner_node and RViz."""
    share = FindPackageShare('robot_memory')
    use_sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'robot_memory.yaml']),
            description='Parameters of memory_node and planner_node.'),
        DeclareLaunchArgument(
            'extra_params_file', default_value='',
            description="A second parameter file applied after params_file (sim.launch.py: "
                        "the simulator's overrides); '' for none."),
        DeclareLaunchArgument(
            'segmentation', default_value='',
            description="memory_node's segmentation over the parameter files: 'instance' or "
                        "'class'; '' keeps the files' value."),
        DeclareLaunchArgument(
            'label_space_file', default_value='',
            description="memory_node's label space over the parameter files (segmentation "
                        "'class'); '' keeps the files' value."),
        DeclareLaunchArgument(
            'world_id', default_value='',
            description="The world memory_node's file is of (sim.launch.py: builtin:<world>:"
                        "<seed>); a file of another world is refused. '' keeps the files' "
                        'value.'),
        DeclareLaunchArgument(
            'other_world', default_value='',
            description="memory_node with a file of another world: refuse, new (move it "
                        "aside) or continue; '' keeps the files' value (refuse)."),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='Namespace of the nodes and their topics (e.g. robot1).'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='Follow /clock (simulation, bag playback) instead of the wall clock.'),
        DeclareLaunchArgument(
            'rviz', default_value='false',
            description='Start RViz with the memory view: true (fail if rviz2 is missing), '
                        'false, or auto (when rviz2 is installed).'),
        DeclareLaunchArgument(
            'respawn', default_value='true',
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
        *(DeclareLaunchArgument(name, default_value=default, description=description)
          for name, _, default, description in TOPIC_ARGUMENTS),
    ]
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
        # memory_node and planner_node, once the arguments are known
        OpaqueFunction(function=memory_and_planner),
    ])
