"""The memory in a browser: a self-contained page (`view`) and a local live server (`serve`)."""

from robot_memory.viewer.data import decode_stops, stop_index, view_data
from robot_memory.viewer.page import render_page, write_view

__all__ = ['decode_stops', 'render_page', 'stop_index', 'view_data', 'write_view']
