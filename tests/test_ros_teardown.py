"""A node process that is stopping: given time while its teardown moves, ended when it hangs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from robot_memory.ros.runtime import TEARDOWN_TIMEOUT_S

pytest.importorskip('rclpy', reason='rclpy is not installed')

# Stands for a node's main after SIGINT: the watchdog armed, then a teardown that either reports
# progress every second for twice the watchdog's time, or hangs.
TEARDOWN = textwrap.dedent(f"""
    import sys, threading, time
    from robot_memory.ros import runtime
    stop = threading.Event()
    threading.Thread(target=runtime._exit_if_teardown_hangs, args=(stop,), daemon=True).start()
    stop.set()
    if sys.argv[1] == 'progress':
        for _ in range({int(2 * TEARDOWN_TIMEOUT_S)}):
            time.sleep(1.0)
            runtime.teardown_progress()
        print('closed cleanly')
    else:
        threading.Event().wait()
""")


def test_a_teardown_that_keeps_moving_is_not_killed_by_the_watchdog() -> None:
    done = subprocess.run([sys.executable, '-c', TEARDOWN, 'progress'], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'closed cleanly' in done.stdout


def test_a_teardown_that_hangs_is_ended_with_the_stacks_of_its_threads() -> None:
    done = subprocess.run([sys.executable, '-c', TEARDOWN, 'hang'], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert 'Timeout' in done.stderr and 'File ' in done.stderr  # faulthandler's dump
