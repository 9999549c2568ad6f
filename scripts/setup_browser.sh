#!/usr/bin/env bash
# Headless Chromium for the viewer's browser tests and `robot-memory bench view`: Debian's
# chromium and chromium-driver, driven by Selenium with no browser download. As root it
# installs them; otherwise it says how, and the browser tests skip with that reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo 'Installing Debian chromium and chromium-driver (for the viewer tests)...'
  apt-get update -qq >/dev/null
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       chromium chromium-driver >/dev/null; then
    echo 'could not install chromium/chromium-driver: the browser tests will skip' >&2
  fi
else
  echo 'The viewer browser tests need Debian chromium and chromium-driver:' >&2
  echo '  sudo apt-get install -y chromium chromium-driver   (until then they skip)' >&2
fi
