"""Thin rclpy nodes: message conversion, parameters, timers. The only place importing rclpy.

Nodes (console scripts; `python -m robot_memory.ros.<node>` works too):

- `sim_bridge_node` — a simulator on the camera, pose, odometry, layout and clock topics;
  Nav2's `navigate_to_pose` action served, `goal_pose` and `cmd_vel` in.
- `memory_node` — camera topics in, memory file built, `memory/query` answered, markers and
  diagnostics out.
- `planner_node` — `question` in, looks out as `navigate_to_pose` goals (or `goal_pose`),
  `answer` out (`robot_memory.core.active`, `robot_memory.core.drive`).

Pieces without rclpy: `sync` (stamp synchroniser), `assembler` (messages → frames, shared
with `bag`), `scheduler` (memory_node's worker: queues, order, requests waiting for frames),
`layouts` (layout files and `map/layout` messages), `wire` (stamps and image fields, shared
with the MCAP recorder), `conversions` and `markers` (message types only), `params` (frozen
parameter dataclasses). `nav2`: the NavigateToPose client and server. Around the nodes:
`bringup` (the graph in one process), `bag` (offline MCAP ingestion), `bench` (`robot-memory
bench ros`), `probe` (node processes and a test participant), `cli_commands` (the
`robot-memory` commands). QoS per topic: `qos`.
"""
