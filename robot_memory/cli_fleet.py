"""`robot-memory fleet …` (schema, robot roles, shipping) and `ask --fleet`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from robot_memory._console import console, emit, out
from robot_memory.cli_options import JsonOption, exit_code_of_answer
from robot_memory.exceptions import RobotMemoryError

__all__ = ['ask_fleet', 'fleet_app']

fleet_app = typer.Typer(help='Many robots, one memory, on a PostgreSQL server.',
                        no_args_is_help=True)

DsnOption = Annotated[str, typer.Option(
    '--dsn', envvar='ROBOT_MEMORY_FLEET_DSN', show_envvar=True,
    help='PostgreSQL connection string (libpq form); never stored in a file of the project.')]


def ask_fleet(question: str, dsn: str, db: Path | None, robot_id: str, as_json: bool,
              now: float | None, embeddings: bool) -> None:
    """Answer `question` from every robot on a fleet server (`ask --fleet`); exit codes as
    `ask`'s (`exit_code_of_answer`)."""
    from robot_memory.fleet.view import FleetView

    view = FleetView(dsn, robot_id if db is not None else '', db, use_embeddings=embeddings)
    try:
        view.refresh()
        reply = view.ask(question, now)
    finally:
        view.close()
    if view.quarantine:  # the answer stands on the other rows; say what was left out
        first = view.quarantine[0]
        console.print(f'[yellow]warning:[/] {sum(view.quarantined.values())} fleet rows '
                      f'quarantined (first: robot {first.robot_id} seq {first.seq}); see '
                      'robot-memory fleet status')
    _print_reply(reply, as_json, view.memory.clock.label, with_confidence=True)


def _print_reply(reply: dict[str, Any], as_json: bool, stamp_label: Callable[[float], str],
                 with_confidence: bool = False) -> None:
    """Print a fleet answer and its evidence (or the JSON); exit with `ask`'s code for it."""
    if as_json:
        sys.stdout.write(json.dumps(reply) + '\n')
    else:
        out.print(reply['answer'])
        if with_confidence:
            out.print(f'confidence {reply["confidence"]:.2f} '
                      f'(robots: {", ".join(reply["robots"])})'
                      + ('  (worth checking)' if reply['needs_verification'] else ''))
        for e in reply['evidence']:
            out.print(f'  evidence: {e["object_id"]} seen by {e["robot"]} at '
                      f'{stamp_label(e["stamp_s"])} in {e["room_id"] or "?"}')
    code = exit_code_of_answer(reply.get('query') is not None, bool(reply['ok']))
    if code:
        raise typer.Exit(code)


@fleet_app.command('ask')
def fleet_ask_cmd(
    question: Annotated[str, typer.Argument(help='An English question.')],
    dsn: DsnOption,
    as_json: JsonOption = False,
    now: Annotated[float | None, typer.Option(
        help="Ask as of this stamp (s); default: the fleet's latest sighting.")] = None,
) -> None:
    """Answer from the server's fleet objects table (schema 3): nothing is rebuilt here.

    Exit codes as `ask`'s."""
    from robot_memory.exceptions import InvalidInputError
    from robot_memory.fleet.questions import FleetQuestions

    if not question.strip():
        raise InvalidInputError('the question is empty')
    questions = FleetQuestions(dsn)
    try:
        reply = questions.ask(question, now)
    finally:
        questions.close()
    _print_reply(reply, as_json, lambda stamp_s: f'{stamp_s:.0f}')


@fleet_app.command('history')
def fleet_history_cmd(
    fleet_id: Annotated[str, typer.Argument(help="A fleet object id ('<robot>/<object id>').")],
    dsn: DsnOption,
    limit: Annotated[int, typer.Option(help='At most this many events.', min=1)] = 1000,
) -> None:
    """One fleet object's history, as JSON: per robot its sightings, and the events held."""
    from robot_memory.fleet.questions import FleetQuestions

    questions = FleetQuestions(dsn, catch_up=False)
    try:
        report = questions.history(fleet_id, limit)
    finally:
        questions.close()
    if not report['robots'] and not report['events']:
        raise RobotMemoryError(f'no fleet object {fleet_id!r} on the server')
    sys.stdout.write(json.dumps(report, default=str) + '\n')


@fleet_app.command('index')
def fleet_index_cmd(
    dsn: DsnOption,
    follow: Annotated[bool, typer.Option(
        help='Keep applying new events until Ctrl-C (robots also do it as they ship).')] =
    False,
    period_s: Annotated[float, typer.Option(help='Seconds between looks with --follow.',
                                            min=0.01)] = 1.0,
    rebuild: Annotated[bool, typer.Option(
        help='First rebuild the fleet objects from every event in stamp order (after robots '
             'shipped long backlogs at once).')] = False,
    as_json: JsonOption = False,
) -> None:
    """Bring the server's fleet objects table up to date with the events (resumable)."""
    import time

    import psycopg

    from robot_memory.fleet.questions import fleet_index, fleet_reindex
    from robot_memory.fleet.schema import FleetError, connect, error_text

    applied = 0
    with connect(dsn, autocommit=True) as conn:
        try:
            if rebuild:
                applied += fleet_reindex(conn)
            while True:
                applied += fleet_index(conn)
                if not follow:
                    break
                time.sleep(period_s)
        except KeyboardInterrupt:
            pass
        except psycopg.Error as exc:
            raise FleetError(f'fleet index: {error_text(exc)}') from None
    emit({'applied': applied}, as_json, 'fleet index')


@fleet_app.command('maintain')
def fleet_maintain_cmd(
    dsn: DsnOption,
    retain_days: Annotated[float | None, typer.Option(
        help='Drop the months of events wholly older than this many days (their sightings '
             'stay summarised per object); default: keep everything.')] = None,
    months_ahead: Annotated[int, typer.Option(help='Partitions made ahead.', min=0)] = 3,
    as_json: JsonOption = False,
) -> None:
    """The periodic job (cron): monthly partitions ahead; retention with --retain-days."""
    from robot_memory.fleet.retention import maintain

    emit(maintain(dsn, retain_days, months_ahead), as_json, 'fleet maintain')


@fleet_app.command('init')
def fleet_init_cmd(dsn: DsnOption) -> None:
    """Create or upgrade the fleet schema on the server (as its administrator)."""
    from robot_memory.fleet.schema import init_server

    versions = init_server(dsn)
    out.print(f'fleet schema version {versions["after"]} (was {versions["before"]})')


@fleet_app.command('add-robot')
def fleet_add_robot_cmd(
    robot_id: Annotated[str, typer.Argument(help='The robot id (lower-case, digits, _).')],
    dsn: DsnOption,
    password: Annotated[str, typer.Option(
        envvar='ROBOT_MEMORY_ROBOT_PASSWORD', show_envvar=True, prompt=True, hide_input=True,
        help="The robot role's password (at least 12 characters).")],
) -> None:
    """Create a robot's database role: it may insert only its own rows and read the fleet."""
    from robot_memory.fleet.schema import add_robot

    out.print(f'robot {robot_id}: role {add_robot(dsn, robot_id, password)}')


@fleet_app.command('revoke-robot')
def fleet_revoke_robot_cmd(
    robot_id: Annotated[str, typer.Argument(help='The robot id.')], dsn: DsnOption) -> None:
    """Stop a robot's role from logging in and end its open sessions (what it shipped stays)."""
    from robot_memory.fleet.schema import revoke_robot

    ended = revoke_robot(dsn, robot_id)
    out.print(f'robot {robot_id}: revoked ({ended} open session{"s" * (ended != 1)} ended)')


@fleet_app.command('status')
def fleet_status_cmd(dsn: DsnOption, as_json: JsonOption = False) -> None:
    """Check what the server holds, robot by robot: events, gaps, quarantined rows, logins."""
    from robot_memory.fleet.view import fleet_status

    report = fleet_status(dsn)
    if as_json:
        sys.stdout.write(json.dumps(report) + '\n')
        return
    for r in report['robots']:
        gaps = ', '.join(f'{a}..{b}' for a, b in r['gaps']) or 'none'
        out.print(f'robot {r["robot_id"]}: {r["events"]} events to seq {r["last_seq"]}, '
                  f'gaps {gaps}, {r["quarantined"]} quarantined'
                  + ('' if r['can_login'] else ', revoked')
                  + (', password changed since add-robot' if r['password_changed'] else ''))
    for q in report['quarantine']:
        out.print(f'  quarantined: robot {q["robot_id"]} seq {q["seq"]}: {q["reason"]}')


@fleet_app.command('sync')
def fleet_sync_cmd(
    db: Annotated[Path, typer.Option(help="The robot's memory file.")],
    dsn: DsnOption,
    robot_id: Annotated[str, typer.Option(help='The id this robot ships as.')],
    follow: Annotated[bool, typer.Option(
        help='Keep shipping new events until Ctrl-C (as memory_node does).')] = False,
    period_s: Annotated[float, typer.Option(help='Seconds between looks with --follow.')] =
    1.0,
    batch_events: Annotated[int, typer.Option(help='Events per transaction.')] = 5000,
    as_json: JsonOption = False,
) -> None:
    """Ship a memory file's events to the fleet server (idempotent; resumes where it was)."""
    import time

    from robot_memory.fleet.replicator import Replicator

    with Replicator(db, dsn, robot_id, batch_events=batch_events) as replicator:
        try:
            while True:
                replicator.sync()
                if not follow:
                    break
                time.sleep(period_s)
        except KeyboardInterrupt:
            pass
        stats = replicator.stats
        result = {'robot_id': robot_id, 'acked_seq': stats.acked_seq,
                  'local_seq': stats.local_seq, 'shipped': stats.shipped,
                  'backlog': stats.backlog, 'connected': stats.connected,
                  'error': stats.last_error}
    if not stats.connected:
        raise RobotMemoryError(f'the fleet server is not reachable: {stats.last_error}')
    emit(result, as_json, 'fleet sync')

