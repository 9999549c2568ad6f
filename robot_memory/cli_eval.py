"""`robot-memory eval …`: mapping, LA-EQA and parser evaluations against ground truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from robot_memory._console import emit, out
from robot_memory.cli_options import (
    AttributesOption,
    BackendOption,
    DetectorOption,
    HabitatConfigOption,
    JsonOption,
    SceneOption,
    WorldOption,
    WorldStyleOption,
    check_at_least_one,
    check_stamp_option,
)
from robot_memory.exceptions import InvalidInputError
from robot_memory.progress import Working

__all__ = ['eval_app']

eval_app = typer.Typer(help="Evaluations against the simulator's ground truth.",
                       no_args_is_help=True)


@eval_app.command('mapping')
def eval_mapping_cmd(
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 11,
    days: Annotated[int, typer.Option(
        callback=check_at_least_one, help='Days of patrol.')] = 3,
    world: WorldOption = 'apartment',
    detector: DetectorOption = 'perfect',
    absent_confirm_views: Annotated[int, typer.Option(
        help='Views of an empty spot that confirm an object is gone (0: as many as the miss '
             'rate learned per class calls for: 1 for a detector that never misses, 2 at 10 % '
             'misses, 3 at 25 %).')] = 0,
    color_gate: Annotated[bool, typer.Option(
        help='A different known colour rules a match out (off for detectors whose colours '
             'flicker).')] = True,
    infer_moves: Annotated[bool, typer.Option(
        help='Take a lost object for the one newcomer like it found since, and at a '
             "patrol's end a held newcomer for the one look-alike not seen all patrol (undone "
             'if it turns up at home); off: moves only with proof.')]
    = True,
    seeds: Annotated[str | None, typer.Option(
        help='A panel: seeds such as 1-10 or 3,7,11, each run on every --world.')] = None,
    workers: Annotated[int | None, typer.Option(
        help='Panel runs in parallel (default: one per core).')] = None,
    png: Annotated[Path, typer.Option(help='Panel chart (PNG).')] = Path('mapping_panel.png'),
    segmentation: Annotated[str, typer.Option(
        help="instance: the detector's instance ids and labels; class: a class-id image "
             'split into objects by depth, as memory_node does for semantic segmentation')]
    = 'instance',
    backend: BackendOption = 'builtin',
    scene: SceneOption = '',
    habitat_config: HabitatConfigOption = None,
    world_style: WorldStyleOption = 'home',
    attributes: AttributesOption = 'pixels',
) -> None:
    """Build memory from simulated patrols and score objects, identities and changes.

    With --seeds, every seed on every world of --world (a comma list): per-run figures plus
    their mean, min, max and totals, and a PNG of the panel.
    """
    from robot_memory.eval.mapping import eval_mapping, eval_mapping_panel
    from robot_memory.eval.panel import parse_seeds, parse_worlds

    if seeds is None:
        result = eval_mapping(seed, days, world, progress=True, detector=detector,
                              absent_confirm_views=absent_confirm_views,
                              color_gate=color_gate, infer_moves=infer_moves,
                              segmentation=segmentation, backend=backend, scene=scene,
                              habitat_config=habitat_config, world_style=world_style,
                              attributes=attributes)
        emit(result, as_json, 'eval mapping')
        return
    result = eval_mapping_panel(parse_seeds(seeds), parse_worlds(world), days,
                                progress=True, detector=detector,
                                absent_confirm_views=absent_confirm_views,
                                color_gate=color_gate, infer_moves=infer_moves,
                                workers=workers, png=png, segmentation=segmentation,
                                world_style=world_style, attributes=attributes)
    if as_json:
        emit(result, True, 'eval mapping panel')
        return
    _panel_table(result, ('object_precision', 'object_recall', 'change_precision',
                          'change_recall', 'change_f1', 'colour_accuracy', 'state_accuracy',
                          'identity_switches_far_same_class'))


def _panel_table(result: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Print a panel's runs and its mean / min rows."""
    table = Table(title=f'panel of {result["panel"]["runs"]} runs; chart: {result.get("png")}')
    # Headers wrap at their spaces and cells fold: on a narrow console nothing is cut to '…'.
    table.add_column('world', overflow='fold')
    table.add_column('seed', justify='right', overflow='fold')
    for key in keys:
        table.add_column(key.replace('_', ' '), justify='right', overflow='fold')

    def cell(value: object) -> str:
        return f'{value:.3f}' if isinstance(value, float) else str(value)

    for run in result['runs']:
        table.add_row(str(run.get('world')), str(run.get('seed')),
                      *(cell(run.get(k)) for k in keys))
    for row in ('mean', 'min'):
        table.add_row(row, '', *(cell(result[row].get(k)) for k in keys))
    out.print(table)


@eval_app.command('laeqa')
def eval_laeqa_cmd(
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
    days: Annotated[int, typer.Option(
        callback=check_at_least_one, help='Days of patrol before the questions.')] = 5,
    world: WorldOption = 'apartment',
    planner: Annotated[str, typer.Option(
        help='all, or a comma list of memory_only, frame_retrieval, fixed_budget, '
             'explore_all, voi.')] = 'all',
    phrasings: Annotated[Path | None, typer.Option(
        help='YAML: question type → list of templates ({object}, {room}, {day}, {state}).')]
    = None,
    per_type: Annotated[int, typer.Option(help='Questions per type at most.')] = 35,
    out_dir: Annotated[Path, typer.Option('--out', help='CSV and chart folder.')] =
    Path('laeqa_out'),
    detector: DetectorOption = 'perfect',
    seeds: Annotated[str | None, typer.Option(
        help='A panel: seeds such as 1-5 or 3,7,11, each run on every --world.')] = None,
    workers: Annotated[int | None, typer.Option(
        help='Panel runs in parallel (default: one per core).')] = None,
    backend: BackendOption = 'builtin',
    scene: SceneOption = '',
    habitat_config: HabitatConfigOption = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match object names with the text embedding model (off where it is not '
             'installed, e.g. beside habitat-sim).')] = True,
    world_style: WorldStyleOption = 'home',
    attributes: AttributesOption = 'pixels',
) -> None:
    """Long-term active embodied QA: generated questions, every planner side by side.

    With --seeds, every seed on every world of --world (a comma list): per-run figures, their
    mean and min per planner, and a PNG of the panel in --out.
    """
    from robot_memory.eval.laeqa import PLANNERS, eval_laeqa, eval_laeqa_panel
    from robot_memory.eval.panel import parse_seeds, parse_worlds

    names = PLANNERS if planner == 'all' else tuple(p.strip() for p in planner.split(','))
    unknown = [n for n in names if n not in PLANNERS]
    if unknown:
        raise InvalidInputError(f'unknown planner {unknown[0]!r}; valid: all, '
                                f'{", ".join(PLANNERS)}')
    if seeds is not None:
        panel = eval_laeqa_panel(parse_seeds(seeds), parse_worlds(world), days, names,
                                 phrasings, out_dir, per_type, progress=True,
                                 detector=detector, workers=workers,
                                 world_style=world_style, attributes=attributes)
        if as_json:
            emit(panel, True, 'eval laeqa panel')
            return
        _panel_table(panel, (*(f'{n}_accuracy' for n in names), 'voi_minus_explore_all',
                             'voi_path_share'))
        return
    result = eval_laeqa(seed, days, world, names, phrasings, out_dir, per_type,
                        use_embeddings=embeddings, progress=True, detector=detector,
                        backend=backend, scene=scene, habitat_config=habitat_config,
                        world_style=world_style, attributes=attributes)
    if as_json:
        emit(result, True, 'eval laeqa')
        return
    table = Table(title=f'LA-EQA: {result["questions"]} questions, parse coverage '
                        f'{result["parse_coverage"]:.2f}')
    for col in ('planner', 'accuracy', *sorted({c for p in result['planners'].values()
                                                 for c in p['by_category']}),
                'path_m', 'rooms', 'p95 ms'):
        table.add_column(col, overflow='fold')
    for name, p in result['planners'].items():
        cats = [f'{p["by_category"].get(c, float("nan")):.2f}'
                for c in sorted({c for q in result['planners'].values()
                                 for c in q['by_category']})]
        table.add_row(name, f'{p["accuracy"]:.3f}', *cats, f'{p["path_m"]:.1f}',
                      f'{p["rooms_visited"]:.2f}', f'{p["latency_ms_p95"]:.1f}')
    out.print(table)
    out.print(f'per-question CSV: {result["csv"]}; chart: {result["chart"]}')

@eval_app.command('questions')
def eval_questions_cmd(
    file: Annotated[Path, typer.Argument(help='Labelled questions (.tsv type/category/question,'
                                              ' .jsonl or .yaml).')],
    as_json: JsonOption = False,
    now: Annotated[float | None, typer.Option(
        callback=check_stamp_option,
        help='The time the questions are asked (s since the Unix epoch); default: now.')] = None,
    timezone: Annotated[str, typer.Option(help='IANA timezone of the robot.')] = 'UTC',
    embeddings: Annotated[bool, typer.Option(
        help='Use the text embedding model (open vocabulary and intent classifier).')] = True,
) -> None:
    """Score the parser on a labelled question file: type and category accuracy, misses."""
    from robot_memory.eval.questions import evaluate_questions

    with Working('parsing the questions…'):
        result = evaluate_questions(file, now_s=now, timezone=timezone, embeddings=embeddings)
    if as_json:
        sys.stdout.write(json.dumps(result) + '\n')
        return
    out.print(f'{result["questions"]} questions: type accuracy {result["type_accuracy"]:.3f}, '
              f'category accuracy {result["category_accuracy"]:.3f}, unsure '
              f'{result["unsure_rate"]:.3f}, {result["questions_per_s"]} questions/s')
    table = Table(title='misses')
    for col in ('line', 'question', 'expected', 'got', 'error'):
        table.add_column(col, overflow='fold')
    for m in result['misses']:
        table.add_row(str(m['line']), m['question'],
                      f'{m["expected"]["type"]}/{m["expected"]["category"]}',
                      f'{m["got"]["type"]}/{m["got"]["category"]}', m['error'][:60])
    out.print(table)
