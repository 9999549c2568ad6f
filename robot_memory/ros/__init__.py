"""Thin rclpy nodes: message conversion, parameters, timers. The only place importing rclpy."""
