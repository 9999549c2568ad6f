"""The simulators: the `SimBackend` base, the built-in household simulator, Habitat (`habitat`).

Heavy modules (Open3D rendering, MCAP recording, matplotlib maps) are imported by the names
that need them, so `import robot_memory.sim` stays light.
"""

from robot_memory.sim.activity import ActivityConfig, ActivityEvent, ActivityModel, Habit
from robot_memory.sim.backend import BuiltinSim, SimConfig, load_scenario
from robot_memory.sim.base import NavResult, SimBackend
from robot_memory.sim.clock import SIM_EPOCH_S, sim_time
from robot_memory.sim.navigation import Navigator
from robot_memory.sim.renderer import CameraConfig, RenderConfig, Renderer
from robot_memory.sim.truth import ObjectTruth, TruthInterval, TruthLog
from robot_memory.sim.world import World, WorldState

__all__ = [
    'SIM_EPOCH_S',
    'ActivityConfig',
    'ActivityEvent',
    'ActivityModel',
    'BuiltinSim',
    'CameraConfig',
    'Habit',
    'NavResult',
    'Navigator',
    'ObjectTruth',
    'RenderConfig',
    'Renderer',
    'SimBackend',
    'SimConfig',
    'TruthInterval',
    'TruthLog',
    'World',
    'WorldState',
    'load_scenario',
    'sim_time',
]
