#!/usr/bin/env bash
# What the tests need beyond .venv, from Debian: headless Chromium for the viewer's browser
# tests (chromium, chromium-driver; Selenium drives them, nothing is downloaded) and the
# PostgreSQL server programs for the fleet tests (postgresql: the tests start a throw-away
# cluster of their own). As root it installs what is missing; otherwise it says how, and
# those tests skip with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/apt_quiet.sh
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages for the tests: ${missing[*]} (log: $APT_LOG)"
  if ! apt_install --no-install-recommends "${missing[@]}"; then
    echo "could not install ${missing[*]}: the tests that need them will skip" >&2
  fi
else
  echo "Some tests need these Debian packages: ${missing[*]}" >&2
  echo "  sudo apt-get install -y ${missing[*]}   (until then those tests skip)" >&2
fi
