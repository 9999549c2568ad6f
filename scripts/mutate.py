"""Mutation testing of the rule-bearing modules, each against only the tests that cover it.

`make mutate` runs this (`MUTATE_ARGS='core/staleness language/timeexpr'` for a subset). For each
module it stages a copy of the project holding the package, the module's test files only and a
`setup.cfg` whose `[mutmut]` section mutates that module alone and selects those tests (mutmut
reads one configuration per project and keeps its results in `./mutants/`, so a staged copy per
module is how each meets only its own tests), runs mutmut there, and writes
`mutation_out/report.txt` and `report.json`: survivors with their diffs and a mutation score per
module and per package. Module results are kept in `mutation_out/modules/`, so runs of different
subsets add up to one report. Not part of `make test`: it takes tens of minutes.

The staged copies stay under `mutation_out/work/<module>/`; in one, `mutmut show NAME` prints a
mutant and `mutmut browse` walks them all.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = 'robot_memory'
# The report reads mutmut's result files (`mutants/**.meta`), so the version is pinned; 3.2 and
# older read `item._nodeid`, which pytest 9 no longer has.
MUTMUT = 'mutmut==3.8.1'

# Module (under robot_memory/, no .py) → the test files that cover it. Slow suites (real DDS,
# Chromium, the store soak) are left out, and tests marked slow are deselected: each mutant of a
# function reruns every one of these tests that calls that function.
MODULES: dict[str, tuple[str, ...]] = {
    'core/episodic': ('test_episodic.py', 'test_episodic_properties.py',
                      'test_consolidation.py', 'test_queries.py', 'test_perception.py',
                      'test_rules_pinned.py'),
    'core/buffer': ('test_buffer.py', 'test_consolidation.py', 'test_rules_pinned.py'),
    'core/staleness': ('test_staleness.py', 'test_episodic.py', 'test_rules_pinned.py'),
    'core/store': ('test_store.py', 'test_store_crash.py'),
    'core/planner': ('test_active.py', 'test_queries.py', 'test_rules_pinned.py'),
    'core/answers_where_when': ('test_queries.py', 'test_queries_people.py'),
    'core/answers_contents': ('test_queries.py', 'test_queries_people.py'),
    'core/answers_retrieve': ('test_queries.py', 'test_queries_people.py'),
    'perception/association': ('test_perception.py', 'test_rules_pinned.py'),
    'perception/identity': ('test_perception_identity.py',),
    # test_perception_identity.py kills one more of 175 mutants here at 2.7 times the time.
    'perception/negative': ('test_perception.py', 'test_rules_pinned.py'),
    'perception/pipeline': ('test_perception.py', 'test_perception_identity.py',
                            'test_perception_pixels.py'),
    'language/timeexpr': ('test_language_time.py', 'test_rules_pinned.py'),
    'language/slots': ('test_language_parser.py', 'test_language_people.py'),
    'fleet/merge': ('test_fleet.py',),
    'fleet/replicator': ('test_fleet.py', 'test_fleet_redteam.py'),
}

# Appended to the staged conftest: a property test that a mutant fails stops at the first
# failing example instead of shrinking it (shrinking made one episodic mutant take over a minute).
HYPOTHESIS_PROFILE = """

from hypothesis import Phase, settings  # noqa: E402

settings.register_profile('mutate', phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          database=None)
"""

# Files the staged tests read besides tests/ (which mutmut copies itself).
ALSO_COPY = ('pyproject.toml', 'config', 'sim')

# mutmut's exit codes per mutant (mutmut/stats.py) → the statuses this report counts; a crash
# of the test process counts as a kill.
STATUS = {1: 'killed', 3: 'killed', -11: 'killed', -9: 'killed', 0: 'survived', 5: 'no_tests',
          33: 'no_tests', 34: 'skipped', 35: 'suspicious', 37: 'killed', 36: 'timeout',
          -24: 'timeout', 24: 'timeout', 152: 'timeout', 255: 'timeout', 2: 'interrupted',
          None: 'not_checked'}


def ensure_mutmut() -> None:
    """Install the pinned mutmut into this interpreter's environment if it is not there."""
    wanted = MUTMUT.partition('==')[2]
    try:
        if importlib.metadata.version('mutmut') == wanted:
            return
    except importlib.metadata.PackageNotFoundError:
        pass
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', MUTMUT], check=True)


def stage(module: str, work: Path) -> Path:
    """Copy the project into `work/<module>/` with only the module's tests and its config."""
    stage_dir = work / module.replace('/', '.')
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    shutil.copytree(ROOT / PACKAGE, stage_dir / PACKAGE, ignore=ignore)
    for name in ALSO_COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, stage_dir / name, ignore=ignore)
        else:
            shutil.copy2(source, stage_dir / name)
    tests = stage_dir / 'tests'
    tests.mkdir()
    for entry in (ROOT / 'tests').iterdir():
        if entry.name.startswith('test_') or entry.name == '__pycache__':
            continue
        if entry.is_dir():
            shutil.copytree(entry, tests / entry.name, ignore=ignore)
        else:
            shutil.copy2(entry, tests / entry.name)
    for name in MODULES[module]:
        shutil.copy2(ROOT / 'tests' / name, tests / name)
    with (tests / 'conftest.py').open('a') as conftest:
        conftest.write(HYPOTHESIS_PROFILE)
    config = ['[mutmut]', f'source_paths = {PACKAGE}', f'only_mutate = {PACKAGE}/{module}.py',
              'pytest_add_cli_args_test_selection =',
              *(f'    tests/{name}' for name in MODULES[module]),
              'also_copy =', *(f'    {name}' for name in ALSO_COPY if name != 'pyproject.toml'),
              # Each surviving mutant reruns its tests; one store soak alone takes 35 s.
              'pytest_add_cli_args =', '    -m', '    not slow', '    --hypothesis-profile=mutate',
              # The staged copy is no git checkout.
              'use_git_change_detection = false']
    (stage_dir / 'setup.cfg').write_text('\n'.join(config) + '\n')
    return stage_dir


def diffs(stage_dir: Path, path: str, mutants: list[str]) -> list[str]:
    """The unified diff of each mutant against its original function (what `mutmut show` prints).

    In this process: `mutmut show` takes a second to start, per survivor.
    """
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = Path.cwd()
    os.chdir(stage_dir)  # mutmut reads ./mutants/
    try:
        return [get_diff_for_mutant(name, path=path) for name in mutants]
    finally:
        os.chdir(cwd)


def run_module(module: str, work: Path, jobs: int, log_dir: Path) -> dict[str, object]:
    """Stage the module, run mutmut on it and return its counts and survivors."""
    stage_dir = stage(module, work)
    log = log_dir / f'{module.replace("/", ".")}.log'
    start = time.monotonic()
    with log.open('w') as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name('mutmut')), 'run',
                                 '--max-children', str(jobs)], cwd=stage_dir, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            exit_code = proc.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached mutmut too: it stops its workers and keeps what it has tried.
            exit_code = proc.wait()
    seconds = round(time.monotonic() - start, 1)
    path = f'{PACKAGE}/{module}.py'
    meta = stage_dir / 'mutants' / f'{path}.meta'
    codes = json.loads(meta.read_text())['exit_code_by_key'] if meta.exists() else {}
    counts = dict.fromkeys(sorted(set(STATUS.values())), 0)
    missed = {}
    for name, code in sorted(codes.items()):
        status = STATUS.get(code, 'suspicious')
        counts[status] += 1
        if status in ('survived', 'no_tests', 'suspicious'):
            missed[name] = status
    survivors = [{'name': name, 'status': status, 'diff': diff}
                 for (name, status), diff in zip(missed.items(), diffs(stage_dir, path, [*missed]),
                                                 strict=True)]
    return {'module': module, 'tests': list(MODULES[module]), 'seconds': seconds,
            'jobs': jobs, 'mutmut_exit': exit_code, 'counts': counts,
            'score': score(counts), 'survivors': survivors, 'log': str(log)}


def score(counts: dict[str, int]) -> float | None:
    """Killed (timeouts included) over every mutant that was tried or had no test to try."""
    caught = counts['killed'] + counts['timeout']
    tried = caught + counts['survived'] + counts['no_tests'] + counts['suspicious']
    return round(caught / tried, 3) if tried else None


def report(out: Path) -> dict[str, object]:
    """Join every module result under `out/modules/` into `report.json` and `report.txt`."""
    results = [json.loads(p.read_text()) for p in sorted((out / 'modules').glob('*.json'))]
    packages: dict[str, dict[str, int]] = {}
    for result in results:
        totals = packages.setdefault(result['module'].partition('/')[0],
                                     dict.fromkeys(result['counts'], 0))
        for status, n in result['counts'].items():
            totals[status] += n
    summary = {'modules': {r['module']: {k: r[k] for k in ('score', 'counts', 'seconds', 'jobs')}
                           for r in results},
               'packages': {name: {'score': score(c), 'counts': c}
                            for name, c in sorted(packages.items())},
               'not_run': sorted(set(MODULES) - {r['module'] for r in results}),
               'survivors': {r['module']: r['survivors'] for r in results}}
    (out / 'report.json').write_text(json.dumps(summary, indent=2) + '\n')
    lines = ['mutation score = killed (timeouts included) / (killed + survived + no tests)', '',
             f'{"module":<28} {"score":>6} {"killed":>6} {"surv":>5} {"notest":>6} '
             f'{"tmout":>5} {"untried":>7} {"time_s":>7}']
    for r in results:
        c = r['counts']
        lines.append(f'{r["module"]:<28} {r["score"]!s:>6} {c["killed"]:>6} {c["survived"]:>5} '
                     f'{c["no_tests"]:>6} {c["timeout"]:>5} {c["not_checked"]:>7} '
                     f'{r["seconds"]:>7}')
    lines.append('')
    for name, p in summary['packages'].items():
        lines.append(f'package {name:<20} score {p["score"]}  ({p["counts"]["killed"]} killed, '
                     f'{p["counts"]["survived"]} survived, {p["counts"]["no_tests"]} no tests)')
    if summary['not_run']:
        lines.append(f'not run yet: {" ".join(summary["not_run"])}')
    for r in results:
        for s in r['survivors']:
            lines += ['', f'## {s["status"]}: {s["name"]}', s['diff']]
    (out / 'report.txt').write_text('\n'.join(lines) + '\n')
    return summary


def main() -> int:
    """Run the chosen modules (all by default) and rewrite the report."""
    parser = argparse.ArgumentParser(description=__doc__.partition('\n')[0])
    parser.add_argument('modules', nargs='*', metavar='MODULE',
                        help=f'modules to run (default: all): {" ".join(MODULES)}')
    parser.add_argument('--jobs', type=int, default=2, help='mutants tested at once')
    parser.add_argument('--out', type=Path, default=ROOT / 'mutation_out')
    parser.add_argument('--report-only', action='store_true',
                        help='rewrite the report from the results already there')
    parser.add_argument('--list', action='store_true', help='print module → test files')
    args = parser.parse_args()
    if args.list:
        for module, tests in MODULES.items():
            print(f'{module:<28} {" ".join(tests)}')
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f'unknown module(s) {unknown}; valid: {" ".join(MODULES)}')
    out = args.out.resolve()
    (out / 'modules').mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        ensure_mutmut()
        for module in args.modules or list(MODULES):
            print(f'{module} ...', flush=True)
            result = run_module(module, out / 'work', args.jobs, out)
            (out / 'modules' / f'{module.replace("/", ".")}.json').write_text(
                json.dumps(result, indent=2) + '\n')
            print(f'{module}: score {result["score"]} {result["counts"]} in '
                  f'{result["seconds"]} s', flush=True)
            if result['counts']['not_checked']:
                print('stopped before every mutant was tried; the report has what was')
                break
    report(out)
    print(f'report: {out / "report.txt"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
