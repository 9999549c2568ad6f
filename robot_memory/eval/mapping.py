"""`robot-memory eval mapping`: the simulator's patrols through perception, scored on truth.

Memory is built only from frames; the simulator's ground truth is used only here, to score:

- objects, per patrol session: memory objects seen in the session against true objects seen
  in at least two frames of it, matched one-to-one within `match_m` with the right class;
- identity: which true object each memory object stood for, session after session;
- changes, as events: each change memory reported (kind, object, time) against the changes the
  robot could have noticed, within the window it could have noticed them in
  (`robot_memory/eval/change_events.py`).

`eval_mapping_panel` runs it on worlds × seeds in parallel and reports mean and minimum.
"""

from __future__ import annotations

import itertools
import math
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from robot_memory.core.buffer import BufferParams
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.store import MemoryStore
from robot_memory.core.types import Frame
from robot_memory.eval.change_events import (
    ViewLog,
    memory_events,
    score_change_events,
    truth_events,
)
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.association import AssociationParams
from robot_memory.perception.class_segments import (
    SEGMENTATIONS,
    LabelSpace,
    class_image,
    instances_from_classes,
    segment_overlap,
)
from robot_memory.perception.observations import ExtractionParams
from robot_memory.perception.pipeline import MappingPipeline, PipelineParams
from robot_memory.progress import StageBar
from robot_memory.service import split_skips
from robot_memory.sim.detector import DetectorConfig, load_detector
from robot_memory.sim.habitat_days import household_sim
from robot_memory.sim.world import label_space

__all__ = ['MappingRun', 'eval_mapping', 'eval_mapping_panel', 'run_mapping', 'score_mapping']



@dataclass(slots=True)
class Session:
    """What happened during one patrol session."""

    start_s: float
    end_s: float
    seen: Counter[str] = field(default_factory=Counter)
    assoc: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rooms: set[str] = field(default_factory=set)


@dataclass(slots=True)
class MappingRun:
    """A memory built from simulated patrols, with what is needed to score it."""

    memory: EpisodicMemory
    pipeline: MappingPipeline
    sim: Any
    sessions: list[Session]
    frames: int
    wall_s: float
    db_bytes: int
    obs_truth: dict[int, str] = field(default_factory=dict)  # observation id → true id
    # (stamp, memory id, true id) of every associated segment: who was taken for whom, when.
    sightings: list[tuple[float, str, str]] = field(default_factory=list)
    views: ViewLog | None = None  # every frame's view, for the scorer
    start_s: float = 0.0


def run_mapping(seed: int = 11, days: int = 3, world: str = 'apartment',
                db_path: Path | None = None, progress: bool = False,
                params: PipelineParams | None = None,
                detector: DetectorConfig | None = None,
                segmentation: str = 'instance', sim: Any = None,
                world_style: str = 'home') -> MappingRun:
    """Patrol `days` days and build memory from the frames (of a noisy detector, if given).

    `segmentation` 'class': each frame goes through a class-id image and back to objects, as
    a semantic segmentation network's output does through memory_node. `sim`: another
    simulator with household activity (`household_sim`); else the built-in one of `world`.
    """
    from robot_memory.sim.backend import BuiltinSim, SimConfig

    if segmentation not in SEGMENTATIONS:
        raise InvalidInputError(f'segmentation {segmentation!r}; valid: '
                                f'{", ".join(SEGMENTATIONS)}')
    space = label_space() if segmentation == 'class' else None
    if sim is None:
        sim = BuiltinSim(SimConfig(world=world, seed=seed, world_style=world_style,
                                   detector=detector or DetectorConfig()))
    layout = sim.scene_graph()
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory()
        db_path = Path(tmp.name) / 'memory.db'
    store = MemoryStore(db_path)
    memory = store.load()
    memory.set_layout(layout, sim.now_s)
    pipeline = MappingPipeline(memory, layout, params)
    sessions: list[Session] = []
    obs_truth: dict[int, str] = {}
    sightings: list[tuple[float, str, str]] = []
    views = ViewLog(sim.intrinsics)
    start_s = sim.now_s
    frames = 0
    start = time.perf_counter()
    with StageBar(progress) as bar:
        bar.stage('patrolling', days)
        for day in range(days):
            for frame in sim.patrol_day(day):
                if not sessions or frame.stamp_s - sessions[-1].end_s > 1800.0:
                    sessions.append(Session(frame.stamp_s, frame.stamp_s))
                session = sessions[-1]
                session.end_s = frame.stamp_s
                truth = sim.frame_truth(frame.frame_index)
                if space is not None:
                    frame, truth = _through_class_image(frame, truth, space)
                result = pipeline.process(frame)
                store.sync(memory)
                for seg, object_id in result.segment_objects.items():
                    gt = truth.get(seg)
                    if gt is not None:
                        session.seen[gt] += 1
                        session.assoc[object_id][gt] += 1
                        sightings.append((frame.stamp_s, object_id, gt))
                for segment in result.seen:
                    gt = truth.get(segment.segment_id)
                    if gt is not None:
                        obs_truth[segment.observation.obs_id] = gt
                views.add(frame.stamp_s, frame.map_T_camera, frame.depth_m)
                x, y = frame.map_T_camera[0, 3], frame.map_T_camera[1, 3]
                room = layout.find_room_at(float(x), float(y))
                if room:
                    session.rooms.add(room.split(':', 1)[1])
                frames += 1
            bar.advance(f'day {day + 1}/{days}')
    pipeline.flush()
    store.sync(memory)
    store.close()
    db_bytes = Path(db_path).stat().st_size
    if tmp is not None:
        tmp.cleanup()
    return MappingRun(memory, pipeline, sim, sessions, frames, time.perf_counter() - start,
                      db_bytes, obs_truth, sightings, views, start_s)


def _through_class_image(frame: Frame, truth: dict[int, str], space: LabelSpace
                         ) -> tuple[Frame, dict[int, str]]:
    """The frame as memory gets it from a class image, and the truth of its new segments."""
    classes = class_image(frame.segments, frame.labels, space)
    segments, labels, _ = instances_from_classes(classes, frame.depth_m, space)
    moved = {new: truth[old] for new, old in segment_overlap(segments, frame.segments).items()
             if old in truth}
    return replace(frame, segments=segments, labels=labels), moved


def _match(mem: list[tuple[str, str, tuple]], gt: list[tuple[str, str, tuple]],
           match_m: float) -> list[tuple[int, int, float]]:
    if not mem or not gt:
        return []
    cost = np.full((len(mem), len(gt)), 1e6)
    for i, (_, label, pos) in enumerate(mem):
        for j, (_, cls, gpos) in enumerate(gt):
            d = math.dist(pos, gpos)
            if label == cls and d <= match_m:
                cost[i, j] = d
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j), float(cost[i, j])) for i, j in zip(rows, cols, strict=True)
            if cost[i, j] < 1e6]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def score_mapping(run: MappingRun, match_m: float = 0.3) -> dict[str, Any]:
    """Score a run against the simulator's ground truth."""
    truth = run.sim.truth
    memory = run.memory
    matched = mem_total = gt_total = 0
    movable_matched = movable_mem = movable_gt = 0
    errors: list[float] = []
    colour_right = colour_total = state_right = state_total = 0
    for s in run.sessions:
        t = s.end_s + 1e-3
        truth_now = truth.at(t)
        view = memory.at(t)
        # Both sides count what was seen at least twice in the session.
        seen_mem = {run.pipeline.identity_of(k) for k, c in s.assoc.items()
                    if sum(c.values()) >= 2}
        mem = [(k, v.label, v.position_m) for k, v in view.objects.items() if k in seen_mem]
        gt = [(k, v.cls, v.position_m) for k, v in truth_now.items() if s.seen[k] >= 2]
        pairs = _match(mem, gt, match_m)
        # Attributes of the objects memory has right, against the truth at the session's end
        # (small objects: furniture's colour is not what anyone asks after).
        for i, j, _ in pairs:
            fact, known = truth_now[gt[j][0]], view.objects[mem[i][0]]
            if fact.mobility == 'furniture':
                continue
            colour_total += 1
            colour_right += known.color == fact.color
            if fact.state:
                state_total += 1
                state_right += known.state == fact.state
        matched += len(pairs)
        mem_total += len(mem)
        gt_total += len(gt)
        errors.extend(d for _, _, d in pairs)
        # Everything that is not furniture: small objects, movable or not.
        small = {k for k, v in truth_now.items() if v.mobility != 'furniture'}
        furniture_labels = _furniture_labels(truth_now)
        movable_gt += sum(1 for k, _, _ in gt if k in small)
        movable_mem += sum(1 for _, label, _ in mem if label not in furniture_labels)
        movable_matched += sum(1 for _, j, _ in pairs if gt[j][0] in small)

    # Identity: the true object each memory object stood for, per session — as associated at
    # the time, and as memory's repaired history tells it now (each sighting counted for the
    # object it belongs to after folds, repairs and undone guesses).
    switches, far_switches, _, _ = _switches(truth, [
        (s.end_s, [(run.pipeline.identity_of(k), c) for k, c in s.assoc.items()])
        for s in run.sessions])
    repaired: list[tuple[float, list[tuple[str, Counter[str]]]]] = []
    for s in run.sessions:
        owners: dict[str, Counter[str]] = defaultdict(Counter)
        for stamp_s, object_id, gt_id in run.sightings:
            if s.start_s <= stamp_s <= s.end_s:
                owners[run.pipeline.identity_at(object_id, stamp_s)][gt_id] += 1
        repaired.append((s.end_s, list(owners.items())))
    _, far_after_repair, both_moved, alike = _switches(truth, repaired)

    changes = score_changes(run, match_m)
    seconds = max(run.wall_s, 1e-9)
    precision = matched / mem_total if mem_total else 0.0
    frames_skipped, segments_skipped = split_skips(run.pipeline.skips)
    recall = matched / gt_total if gt_total else 0.0
    return {
        'seed': None,
        'days': None,
        'frames': run.frames,
        'sessions': len(run.sessions),
        'object_precision': precision,
        'object_recall': recall,
        'small_object_precision': movable_matched / movable_mem if movable_mem else 0.0,
        'small_object_recall': movable_matched / movable_gt if movable_gt else 0.0,
        'position_error_m': float(np.mean(errors)) if errors else None,
        'identity_switches': switches,
        'identity_switches_far_same_class': far_switches,
        'identity_switches_far_same_class_after_repair': far_after_repair,
        'identity_switches_far_both_moved': both_moved,
        'identity_switches_indistinguishable': alike,
        'identity_repairs': run.pipeline.repairs,
        'colour_accuracy': colour_right / colour_total if colour_total else None,
        'state_accuracy': state_right / state_total if state_total else None,
        'guesses_undone': len(run.pipeline.splits),
        **changes,
        'objects_in_memory': memory.num_objects(),
        'merged_duplicates': run.pipeline.merges,
        'frames_skipped': frames_skipped,
        'segments_skipped': segments_skipped,
        'db_mb': run.db_bytes / 1e6,
        'fps_with_render': run.frames / seconds,
    }


def score_changes(run: MappingRun, match_m: float = 0.3,
                  tolerance_s: float = 300.0) -> dict[str, Any]:
    """Changes as events, matched to the truth's noticeable events (`change_events`)."""
    end_s = run.sessions[-1].end_s + 1.0 if run.sessions else run.start_s
    assert run.views is not None
    looks: dict[str, list[float]] = defaultdict(list)  # true id → stamps it was seen at
    for stamp_s, _, true_id in run.sightings:
        looks[true_id].append(stamp_s)
    true = truth_events(run.sim.truth, looks, run.views, end_s, match_m, run.start_s)
    reported = memory_events(run.memory, run.obs_truth, match_m)
    score = score_change_events(true, reported, run.sim.truth, tolerance_s, match_m,
                                run.start_s)
    return score.figures()


def _switches(truth: Any, sessions: list[tuple[float, list[tuple[str, Counter[str]]]]]
              ) -> tuple[int, int, int, int]:
    """Identity switches over sessions of (end, [(memory id, how often it was seen as each
    true object)]): all, far same-class, of those the ones where both objects moved between
    the two sessions (both gone from where they were seen last), and of those the ones
    between two objects of one matched set (`look_group`): identical to any camera, so
    nothing the robot saw in between says which went where (indistinguishable)."""
    switches = far = both_moved = alike = 0
    last_owner: dict[str, tuple[str, float]] = {}
    for end_s, owners in sessions:
        for owner, counts in owners:
            gt_id = counts.most_common(1)[0][0]
            previous, since_s = last_owner.get(owner, (None, end_s))
            if previous is not None and previous != gt_id:
                switches += 1
                now = truth.at(end_s)
                a, b = now.get(previous), now.get(gt_id)
                if a is not None and b is not None and a.cls == b.cls and \
                        math.dist(a.position_m, b.position_m) > 1.0:
                    far += 1
                    moved = all(_moved(truth, k, since_s, end_s) for k in (previous, gt_id))
                    both_moved += moved
                    alike += moved and bool(a.look_group) and a.look_group == b.look_group
            last_owner[owner] = (gt_id, end_s)
    return switches, far, both_moved, alike


def _moved(truth: Any, true_id: str, t_from: float, t_to: float, match_m: float = 0.3
           ) -> bool:
    """Whether the object changed place (more than `match_m`) during (t_from, t_to]."""
    intervals = truth.intervals(true_id)
    return any(t_from < iv.t_from <= t_to and
               math.dist(iv.fact.position_m, before.fact.position_m) > match_m
               for before, iv in itertools.pairwise(intervals))


def _furniture_labels(truth_now: dict[str, Any]) -> set[str]:
    return {v.cls for v in truth_now.values() if v.mobility == 'furniture'}


def eval_mapping(seed: int = 11, days: int = 3, world: str = 'apartment',
                 progress: bool = False, detector: str = 'perfect',
                 absent_confirm_views: int = 0, color_gate: bool = True,
                 infer_moves: bool = True, segmentation: str = 'instance',
                 backend: str = 'builtin', scene: str = '',
                 habitat_config: str | None = None, world_style: str = 'home',
                 attributes: str = 'pixels') -> dict[str, Any]:
    """Build memory from the simulator's patrols and score it; JSON-ready figures.

    `detector`: a preset (perfect, realistic, poor) or a YAML file of detector error rates;
    `absent_confirm_views`: views of an empty spot that confirm a loss (0: as many as the
    detector's learned per-class miss rate calls for); `color_gate`: whether a different
    known colour rules a match out; `world_style`: home or flat (`sim/appearance.py`);
    `attributes`: pixels (colour and state read by memory) or labels (handed over by the
    simulated detector).
    """
    params = PipelineParams(buffer=BufferParams(confirm_k_removed=absent_confirm_views),
                            association=AssociationParams(color_gate=color_gate),
                            extraction=ExtractionParams(),
                            infer_moves=infer_moves)
    sim = household_sim(backend, scene, seed, habitat_config, detector)
    if sim is not None:
        world = Path(sim.config.scene_path).name
    run = run_mapping(seed, days, world, progress=progress, params=params,
                      detector=load_detector(detector).with_attributes(attributes),
                      segmentation=segmentation, sim=sim, world_style=world_style)
    if sim is not None:
        sim.close()
    result = score_mapping(run)
    result['seed'] = seed
    result['days'] = days
    result['world'] = world
    result['detector'] = detector
    result['absent_confirm_views'] = absent_confirm_views
    result['color_gate'] = color_gate
    result['infer_moves'] = infer_moves
    result['segmentation'] = segmentation
    result['backend'] = backend
    result['world_style'] = world_style if sim is None else 'habitat'
    result['attributes'] = attributes
    return result


PANEL_FIGURES = ('object_precision', 'object_recall', 'change_precision', 'change_recall',
                 'change_f1', 'colour_accuracy', 'state_accuracy',
                 'identity_switches_far_same_class',
                 'identity_switches_far_same_class_after_repair',
                 'identity_switches_far_both_moved', 'identity_switches_indistinguishable',
                 'identity_repairs',
                 'guesses_undone', 'identity_switches',
                 'position_error_m', 'frames', 'fps_with_render')
PANEL_COUNTS = ('identity_switches_far_same_class',
                'identity_switches_far_same_class_after_repair',
                'identity_switches_far_both_moved', 'identity_switches_indistinguishable',
                'identity_repairs',
                'guesses_undone', 'identity_switches', 'frames')
PANEL_TARGETS = {'object_precision': 0.97, 'object_recall': 0.97, 'change_f1': 0.90}


def eval_mapping_panel(seeds: list[int], worlds: list[str], days: int = 3,
                       progress: bool = False, detector: str = 'perfect',
                       absent_confirm_views: int = 0, color_gate: bool = True,
                       infer_moves: bool = True, workers: int | None = None,
                       png: Path | None = Path('mapping_panel.png'),
                       segmentation: str = 'instance', world_style: str = 'home',
                       attributes: str = 'pixels') -> dict[str, Any]:
    """`eval_mapping` on every world × seed (in parallel processes); per run, mean and min."""
    from robot_memory.eval.panel import plot_panel, run_panel, summarize

    jobs = [{'seed': seed, 'days': days, 'world': world, 'detector': detector,
             'absent_confirm_views': absent_confirm_views, 'color_gate': color_gate,
             'infer_moves': infer_moves, 'segmentation': segmentation,
             'world_style': world_style, 'attributes': attributes}
            for world in worlds for seed in seeds]
    runs = run_panel(eval_mapping, jobs, workers, progress, 'mapping panel')
    out: dict[str, Any] = {
        'panel': {'seeds': seeds, 'worlds': worlds, 'days': days, 'detector': detector,
                  'infer_moves': infer_moves, 'segmentation': segmentation,
                  'world_style': world_style, 'attributes': attributes,
                  'runs': len(runs)},
        **summarize(runs, PANEL_FIGURES, PANEL_COUNTS),
        'runs': runs,
    }
    if png is not None:
        title = (f'eval mapping: {len(seeds)} seeds × {", ".join(worlds)} ({world_style}), '
                 f'{days} days, {detector} detector, {segmentation} segmentation, '
                 f'attributes from {attributes}')
        out['png'] = str(plot_panel(runs, ('object_precision', 'object_recall',
                                           'change_precision', 'change_recall', 'change_f1'),
                                    png, title, PANEL_TARGETS))
    return out
