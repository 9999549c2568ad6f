# Sourced by .ci/run and the setup scripts: apt-get without its chatter in the test output.
# apt and debconf write notes to stderr ("debconf: delaying package configuration, since
# apt-utils is not installed") that used to land in the middle of `make test`; all of it goes
# to one log instead, and only a failure prints its tail and where the log is.
APT_LOG=${APT_LOG:-${TMPDIR:-/tmp}/robot_memory-apt.log}

# apt_install [OPTION...] PACKAGE...: update the index and install without questions; 1 on
# failure.
apt_install() {
  {
    echo "== $(date -u +%FT%TZ) apt-get install $*"
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  } >>"$APT_LOG" 2>&1 && return 0
  echo "apt-get install $* failed; the last lines of $APT_LOG:" >&2
  tail -n 5 "$APT_LOG" >&2
  return 1
}
