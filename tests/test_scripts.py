"""The shell helpers of setup and CI: apt-get's notes stay in a log, out of `make test`."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEBCONF = 'debconf: delaying package configuration, since apt-utils is not installed'


def _fake_apt(tmp_path: Path, rc: int) -> Path:
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    apt = bin_dir / 'apt-get'
    apt.write_text(f'#!/bin/sh\necho "apt-get $* as $DEBIAN_FRONTEND"\necho "{DEBCONF}" >&2\n'
                   f'exit {rc}\n')
    apt.chmod(0o755)
    return bin_dir


def _apt_install(tmp_path: Path, rc: int) -> subprocess.CompletedProcess[str]:
    env = {'PATH': f'{_fake_apt(tmp_path, rc)}:/usr/bin:/bin', 'APT_LOG': str(tmp_path / 'a.log')}
    return subprocess.run(['bash', '-c', '. scripts/apt_quiet.sh && apt_install libfoo'],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


def test_apt_install_writes_apt_and_debconf_notes_to_the_log_only(tmp_path: Path) -> None:
    done = _apt_install(tmp_path, 0)
    assert (done.returncode, done.stdout, done.stderr) == (0, '', '')
    log = (tmp_path / 'a.log').read_text()
    assert DEBCONF in log
    assert 'apt-get install -y -q libfoo as noninteractive' in log


def test_apt_install_failure_names_the_log_and_shows_its_tail(tmp_path: Path) -> None:
    done = _apt_install(tmp_path, 100)
    assert done.returncode == 1
    assert f'apt-get install libfoo failed; the last lines of {tmp_path / "a.log"}:' in done.stderr
    assert DEBCONF in done.stderr


def test_every_apt_get_install_of_the_scripts_goes_through_apt_install() -> None:
    scripts = [ROOT / '.ci' / 'run', *sorted((ROOT / 'scripts').glob('*.sh'))]
    direct = [f'{p.relative_to(ROOT)}:{n}' for p in scripts if p.name != 'apt_quiet.sh'
              for n, line in enumerate(p.read_text().splitlines(), 1)
              if 'apt-get install' in line and 'echo' not in line]
    assert direct == []
