"""The LA-EQA harness: patrol, freeze the world, ask, answer with every planner, score.

`eval_laeqa` runs one world and seed and writes the CSV and chart; `eval_laeqa_panel` runs it
on every world × seed in worker processes.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from robot_memory.core.planner import PlannerParams
from robot_memory.eval.laeqa.baselines import (
    PLANNERS,
    FrozenWorld,
    frame_retrieval_answer,
    rooms_of,
    run_planner,
)
from robot_memory.eval.laeqa.output import summarise, write_chart, write_csv
from robot_memory.eval.laeqa.patrol import patrol
from robot_memory.eval.laeqa.questions import ASKED_HOUR, generate_questions, is_correct
from robot_memory.exceptions import InvalidInputError
from robot_memory.progress import StageBar
from robot_memory.sim.clock import DAY_S, SIM_EPOCH_S
from robot_memory.sim.detector import load_detector
from robot_memory.sim.habitat_days import household_sim

__all__ = ['eval_laeqa', 'eval_laeqa_panel']


def eval_laeqa(seed: int = 0, days: int = 5, world: str = 'apartment',
               planners: tuple[str, ...] = PLANNERS, phrasings_path: Path | None = None,
               out_dir: Path = Path('laeqa_out'), per_type: int = 35,
               use_embeddings: bool = True, progress: bool = False,
               planner_params: PlannerParams | None = None,
               detector: str = 'perfect', backend: str = 'builtin', scene: str = '',
               habitat_config: str | None = None, world_style: str = 'home',
               attributes: str = 'pixels') -> dict[str, Any]:
    """Run the benchmark; writes a per-question CSV and a chart, returns the summary.

    `detector`: a preset (perfect, realistic, poor) or a YAML file of detector error rates;
    the patrols and every look while answering see through it. `backend` habitat: the
    household days of a Habitat `scene` (needs habitat-sim). `world_style` (home, flat) and
    `attributes` (pixels: colour and state read by memory; labels: handed over) as in
    `eval_mapping`.
    """
    from robot_memory.language.parser import QuestionParser, Vocabulary
    from robot_memory.language.phrasings import (
        BUILTIN_PHRASINGS,
        load_phrasings,
        query_matches,
    )

    for name in planners:
        if name not in PLANNERS:
            raise InvalidInputError(f'unknown planner {name!r}; valid: {", ".join(PLANNERS)}')
    phrasings = dict(BUILTIN_PHRASINGS)
    if phrasings_path is not None:
        phrasings = load_phrasings(phrasings_path)
    learned = planner_params is None
    planner_params = planner_params or PlannerParams()
    bar = StageBar(progress)
    with bar:
        bar.stage('patrolling', days)
        other = household_sim(backend, scene, seed, habitat_config, detector)
        if other is not None:
            world = Path(other.config.scene_path).name
        base = patrol(seed, days, world, progress=lambda d: bar.advance(),
                      detector=load_detector(detector).with_attributes(attributes), sim=other,
                      world_style=world_style)
        sim = base.sim
        if learned:
            # The sensor model is what the patrols measured of the detector, not a constant.
            planner_params = replace(planner_params,
                                     detection_prob=base.pipeline.detection.prob())
        asked_s = SIM_EPOCH_S + days * DAY_S + ASKED_HOUR * 3600.0
        sim.step(asked_s - sim.now_s)
        dock = sim.place_id
        layout = base.layout
        bar.stage('rendering looks', len(layout.places))
        looks = {}
        visible: set[str] = set()
        for place in layout.places:
            sim.teleport(*layout.get_place(place).position_m[:2], 0.0)
            looks[place] = sim.look_around()
            for frame in looks[place]:
                visible.update(sim.frame_truth(frame.frame_index).values())
            bar.advance()
        world_state = FrozenWorld(looks, dock, asked_s)
        questions = generate_questions(base, asked_s, phrasings, per_type, seed, visible)
        embedder = None
        matcher = None
        if use_embeddings:
            from robot_memory.language.embeddings import default_embedder

            embedder = default_embedder()

            def matcher(label: str, labels: Any) -> str | None:
                match = embedder.best_match(label, list(labels), min_score=0.5)
                return match[0] if match else None

        vocab = Vocabulary.from_scene_graph(base.memory.at(asked_s).scene_graph())
        parser = QuestionParser(vocab, base.memory.clock, embedder)
        rows: list[dict[str, Any]] = []
        parsed_ok = 0
        bar.stage('answering', len(questions))
        for q in questions:
            parsed = parser.parse(q.text, asked_s)
            understood = query_matches(parsed.query, q.qtype, label=q.label, color=q.color,
                                       room_id=q.room_id, day_start_s=q.day_start_s,
                                       state=q.state)
            parsed_ok += understood
            for name in planners:
                start = time.perf_counter()
                if name == 'frame_retrieval':
                    value = frame_retrieval_answer(q, parsed.query, base.records, asked_s,
                                                   base.memory.clock)
                    text, conf, path_m, rooms, travel = str(value), 1.0, 0.0, 0, 0.0
                elif parsed.query is None:
                    value, text, conf, path_m, rooms, travel = None, parsed.error, 0.0, 0.0, 0, 0
                else:
                    answer, agent = run_planner(name, base, world_state, parsed.query, matcher,
                                                planner_params)
                    value, text, conf = answer.value, answer.text, answer.confidence
                    path_m, rooms, travel = agent.path_m, rooms_of(agent.visited), \
                        agent.travel_s + agent.setup_s
                latency_ms = (time.perf_counter() - start - travel) * 1e3
                rows.append({
                    'qid': q.qid, 'type': q.qtype, 'category': str(q.category),
                    'question': q.text, 'planner': name, 'parsed': bool(understood),
                    'answer': text, 'truth': q.expected, 'correct': is_correct(q, value),
                    'confidence': round(float(conf), 3), 'path_m': round(path_m, 2),
                    'rooms_visited': rooms, 'latency_ms': round(latency_ms, 2),
                })
            bar.advance()
    summary = summarise(rows, planners, len(questions), parsed_ok)
    summary.update({'seed': seed, 'days': days, 'world': world, 'detector': detector,
                    'world_style': world_style, 'attributes': attributes,
                    'detection_prob': planner_params.detection_prob,
                    'phrasings': str(phrasings_path) if phrasings_path else 'builtin'})
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out_dir / 'laeqa_questions.csv')
    write_chart(summary, out_dir / 'laeqa_accuracy.png')
    summary['csv'] = str(out_dir / 'laeqa_questions.csv')
    summary['chart'] = str(out_dir / 'laeqa_accuracy.png')
    return summary


def _panel_run(seed: int, days: int, world: str, planners: tuple[str, ...],
               phrasings_path: Path | None, out_dir: Path, per_type: int,
               detector: str, world_style: str = 'home',
               attributes: str = 'pixels') -> dict[str, Any]:
    """One panel run: the benchmark's summary with its figures also flat, per planner."""
    summary = eval_laeqa(seed, days, world, planners, phrasings_path,
                         out_dir / f'{Path(world).stem}_{seed}', per_type, detector=detector,
                         world_style=world_style, attributes=attributes)
    for name, figures in summary['planners'].items():
        summary[f'{name}_accuracy'] = figures['accuracy']
        summary[f'{name}_path_m'] = figures['path_m']
    if {'voi', 'explore_all'} <= summary['planners'].keys():
        voi, explore = summary['planners']['voi'], summary['planners']['explore_all']
        summary['voi_minus_explore_all'] = voi['accuracy'] - explore['accuracy']
        summary['voi_path_share'] = (voi['path_m'] / explore['path_m']
                                     if explore['path_m'] else None)
    return summary


def eval_laeqa_panel(seeds: list[int], worlds: list[str], days: int = 5,
                     planners: tuple[str, ...] = PLANNERS,
                     phrasings_path: Path | None = None,
                     out_dir: Path = Path('laeqa_out'), per_type: int = 35,
                     progress: bool = False, detector: str = 'perfect',
                     workers: int | None = None, world_style: str = 'home',
                     attributes: str = 'pixels') -> dict[str, Any]:
    """The benchmark on every world × seed (in parallel processes): per run, mean and min."""
    from robot_memory.eval.panel import plot_panel, run_panel, summarize

    jobs = [{'seed': seed, 'days': days, 'world': world, 'planners': planners,
             'phrasings_path': phrasings_path, 'out_dir': out_dir, 'per_type': per_type,
             'detector': detector, 'world_style': world_style, 'attributes': attributes}
            for world in worlds for seed in seeds]
    runs = run_panel(_panel_run, jobs, workers, progress, 'LA-EQA panel')
    keys = [f'{name}_{figure}' for name in planners for figure in ('accuracy', 'path_m')]
    keys += ['voi_minus_explore_all', 'voi_path_share', 'parse_coverage', 'detection_prob']
    out: dict[str, Any] = {
        'panel': {'seeds': seeds, 'worlds': worlds, 'days': days, 'detector': detector,
                  'world_style': world_style, 'attributes': attributes,
                  'planners': list(planners), 'runs': len(runs)},
        **summarize(runs, keys),
        'runs': runs,
    }
    accuracy_keys = [f'{name}_accuracy' for name in planners]
    out['png'] = str(plot_panel(runs, accuracy_keys, out_dir / 'laeqa_panel.png',
                                f'LA-EQA: {len(seeds)} seeds × {", ".join(worlds)}, {days} days',
                                {'voi_accuracy': 0.93}))
    return out
