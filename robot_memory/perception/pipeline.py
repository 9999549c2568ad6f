"""Frames → observations → identities → buffer → episodic memory, with negative evidence.

`MappingPipeline.process(frame)` never raises on bad input: a frame that cannot be used is
counted under a reason in `skips` and reported in its `FrameResult`. Which remembered objects
a frame shows in clear view is worked out in `negative.py`; furniture boxes and what an object
stands on in `furniture.py`.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from robot_memory.core.buffer import BufferParams, Candidate, ChangeKind, ShortTermBuffer
from robot_memory.core.consolidation import (
    ConsolidationParams,
    Consolidator,
    ObservedFacts,
    state_reads_needed,
)
from robot_memory.core.detection import DetectionStats
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import Frame, ObjectObservation
from robot_memory.exceptions import RobotMemoryError
from robot_memory.perception.association import (
    AssociationParams,
    ColourReliability,
    Track,
    alike,
    associate,
    reid_candidates,
)
from robot_memory.perception.attributes import AttributeModel, PixelStateModel
from robot_memory.perception.classes import mobility_of
from robot_memory.perception.coverage import ViewHistory
from robot_memory.perception.frames import FrameRejected, validate_frame
from robot_memory.perception.furniture import absorb_box, boxes_overlap, grow_box, support_of
from robot_memory.perception.identity import GuessedMove, LookAlikes
from robot_memory.perception.negative import (
    ClearView,
    apparent_size_m,
    clear_views,
    shows_label,
)
from robot_memory.perception.observations import (
    ExtractionParams,
    SegmentObservation,
    extract_observations,
)

__all__ = ['FrameResult', 'MappingPipeline', 'PipelineParams']

log = logging.getLogger(__name__)
STAGES = ('validate', 'extract', 'associate', 'consolidate', 'negative')


@dataclass(frozen=True, slots=True)
class PipelineParams:
    """Everything that tunes the mapping pipeline."""

    extraction: ExtractionParams = field(default_factory=ExtractionParams)
    association: AssociationParams = field(default_factory=AssociationParams)
    buffer: BufferParams = field(default_factory=BufferParams)
    consolidation: ConsolidationParams = field(default_factory=ConsolidationParams)
    session_gap_s: float = 1800.0
    stamp_tolerance_s: float = 0.5
    # A spot reads as empty when the depth there is not nearer than the object's own near face
    # (its half width, plus `occlusion_margin_m` for position error), and never more than
    # `occlusion_tolerance_m` nearer than its centre: anything closer stands in front of it.
    occlusion_tolerance_m: float = 0.3
    occlusion_margin_m: float = 0.05
    negative_max_range_m: float = 4.5
    min_projected_px: float = 14.0
    image_margin_px: int = 16
    support_gap_m: float = 0.15
    support_reach_m: float = 0.4  # how far past the box seen so far a level surface goes on
    tentative_ttl_s: float = 3 * 86400.0
    # Something glimpsed this near a newcomer's spot (never confirmed, in an earlier session)
    # was the newcomer: a discovery, not an arrival (about the localisation error between
    # views, well under the distance between two things on a shelf).
    glimpse_radius_m: float = 0.15
    merge_radius_m: float = 0.35
    max_furniture_m: float = 2.6
    # An absence is confirmed by as many empty views as make "the detector missed it every
    # time" less likely than this, with the miss rate learned per class (`DetectionStats`);
    # `BufferParams.confirm_k_removed` > 0 fixes the count instead.
    absence_error: float = 0.05
    # A state change is confirmed by as many agreeing reads as make "the reader erred every
    # time" less likely than this (the reader's error per read, the state's learned τ).
    state_error: float = 0.1
    # A spot is empty only if the depth there reaches this far behind where the object's
    # visible face was: otherwise the object may stand there, unnamed by the detector.
    empty_margin_m: float = 0.03
    # Off, a move is reported only with proof: a newcomer arrived at a spot seen empty before
    # and a look-alike's own spot was seen empty. With `infer_moves`, a lost object is also
    # taken for the one newcomer like it found since when every other look-alike was seen
    # elsewhere (its past repaired), and at a patrol's end a held newcomer for the one
    # look-alike not seen all patrol (a guess, undone if that one turns up at home): more
    # moves found; a removed object and a look-alike never made out before get swapped now
    # and then (`perception/identity.py`).
    infer_moves: bool = True
    # Furniture's remembered centre is re-estimated once its accumulated box has shifted by
    # more than this (a few centimetres of noise per view would otherwise log every frame).
    refine_step_m: float = 0.05
    place_radius_m: float = 0.5


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What one frame did to memory."""

    stamp_s: float
    accepted: bool
    skip_reason: str | None = None
    observations: int = 0
    associations: dict[int, str] = field(default_factory=dict)
    segment_objects: dict[int, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    confirmed: tuple[Candidate, ...] = ()
    seen: tuple[SegmentObservation, ...] = ()  # what the frame's segments showed
    timings_ms: dict[str, float] = field(default_factory=dict)


class MappingPipeline(LookAlikes):
    """Builds the episodic scene graph from a stream of frames."""

    def __init__(self, memory: EpisodicMemory, layout: SceneGraph | None = None,
                 params: PipelineParams | None = None,
                 attribute_model: AttributeModel | None = None) -> None:
        self.params = params or PipelineParams()
        # Reads states from pixels (`perception/attributes.py`); the built-in one by default.
        self.attribute_model: AttributeModel = attribute_model or PixelStateModel()
        self.memory = memory
        self.layout = layout if layout is not None else memory.layout_at(memory.now_s)
        self.consolidator = Consolidator(memory, ShortTermBuffer(self.params.buffer),
                                         self.params.consolidation)
        self.skips: Counter[str] = Counter()
        self.frames_accepted = 0
        self.timings_ms: Counter[str] = Counter()
        self.session = 0
        self.session_start_s: float | None = None
        self.merges = 0
        self.repairs = 0  # histories rewritten: a newcomer was a lost object, moved
        # Moves memory guessed at a session's end (one unaccounted look-alike), by object:
        # undone (`_undo_guess`) if the guessed object turns up where it stood before.
        self.guesses: dict[str, GuessedMove] = {}
        # Guesses undone: (object, the object split off it, since, when undone).
        self.splits: list[tuple[str, str, float, float]] = []
        self.refinements = 0  # furniture centres re-estimated from their accumulated boxes
        self.held_newcomers = 0  # newcomers held because they may be one of several look-alikes
        self.held_resolved = 0  # of those, found to be a known object that moved
        self.folded: dict[str, str] = {}  # held newcomer's track id → the object it was
        self.coverage = ViewHistory()
        # Things glimpsed in too few frames to be confirmed (tentative tracks pruned): where,
        # in which session (`_glimpsed`).
        self.glimpses: deque[tuple[tuple[float, float, float], int]] = deque(maxlen=4096)
        self.colours = ColourReliability()
        self.detection = DetectionStats()  # P(found | in clear view) per class, learned
        self._last_stamp: float | None = None
        self._obs_ids = itertools.count(1)
        self.tracks: dict[str, Track] = {}
        self._rebuild_tracks()
        numbers = [int(t.split(':')[1]) for t in self.tracks if t.split(':')[1].isdigit()]
        self._track_ids = itertools.count(max(numbers, default=0) + 1)

    def _rebuild_tracks(self) -> None:
        view = self.memory.at(self.memory.now_s)
        for state in [*view.objects.values(), *view.missing.values()]:
            self.tracks[state.object_id] = Track(
                state.object_id, state.label, state.color, state.position_m or (0, 0, 0),
                (0.2, 0.2, 0.2), state.mobility, state.last_seen_s, -1, state.present, True,
                state.position_m)

    # --------------------------------------------------------------- process
    def process(self, frame: Frame) -> FrameResult:
        """Take one frame into memory; never raises on bad input."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        try:
            validate_frame(frame)
            if self._last_stamp is not None and (
                    frame.stamp_s < self._last_stamp - self.params.stamp_tolerance_s):
                raise FrameRejected('out_of_order', f'stamp {frame.stamp_s} is before the '
                                    f'previous frame at {self._last_stamp}')
        except FrameRejected as exc:
            self.skips[exc.reason] += 1
            log.debug('frame %d skipped: %s', frame.frame_index, exc)
            return FrameResult(frame.stamp_s, False, exc.reason)
        if self._last_stamp is not None and (
                frame.stamp_s - self._last_stamp > self.params.session_gap_s):
            self.flush()
            self.session += 1
            self.session_start_s = frame.stamp_s
            self.coverage.new_session()
        if self.session_start_s is None:
            self.session_start_s = frame.stamp_s
        self._last_stamp = max(frame.stamp_s, self._last_stamp or frame.stamp_s)
        t1 = time.perf_counter()
        timings['validate'] = (t1 - t0) * 1e3

        skipped: dict[str, int] = {}
        try:
            seen = extract_observations(frame, self.params.extraction, skipped, self._obs_ids,
                                        self.attribute_model)
        except (ValueError, FloatingPointError) as exc:
            self.skips['bad_geometry'] += 1
            log.warning('frame %d: back-projection failed: %s', frame.frame_index, exc)
            return FrameResult(frame.stamp_s, False, 'bad_geometry')
        for reason, n in skipped.items():
            self.skips[f'segment_{reason}'] += n
        t2 = time.perf_counter()
        timings['extract'] = (t2 - t1) * 1e3

        tracks = list(self.tracks.values())
        keys = [(s.observation.label, s.observation.attributes.get('color', ''),
                 s.observation.centroid_m) for s in seen]
        covered = _LazyFlags(lambda i: self.coverage.seen_before(
            keys[i][2], keys[i][0], apparent_size_m(seen[i].observation.extent_m),
            self.detection.views_to_confirm_absence(keys[i][0], self.params.absence_error)),
            len(keys))
        # Only a confirmed absence says which look-alike left: one empty-looking view can be
        # a glance past the object's edge.
        vacated = {j for j, t in enumerate(tracks) if not t.present}
        looks = [(s.look, s.observation.extent_m[2]) for s in seen]
        matches = associate(keys, tracks, self.session, self.params.association, vacated,
                            self.colours, covered, looks)
        t3 = time.perf_counter()
        timings['associate'] = (t3 - t2) * 1e3

        associations: dict[int, str] = {}
        segment_objects: dict[int, str] = {}
        confirmed: list[Candidate] = []
        frame_tracks: list[Track] = []
        for i, (segment, match) in enumerate(zip(seen, matches, strict=True)):
            obs = segment.observation
            if match is not None:
                track = tracks[match]
            else:
                track = self._undo_guess(segment) or self._new_track(segment, covered[i])
            frame_tracks.append(track)
            if track.mobility != 'movable':
                obs = grow_box(track, obs, self.params.max_furniture_m)
            track.position_m = obs.centroid_m
            track.extent_m = obs.extent_m
            _learn_look(track, segment)
            obs = _voted_colour(track, obs)
            track.last_seen_s = obs.stamp_s
            track.session = self.session
            associations[obs.obs_id] = track.object_id
            segment_objects[segment.segment_id] = track.object_id
            # Furniture is part of the static scene, seen in parts: the first sight of it is a
            # discovery wherever the robot had looked (just as it is never reported gone). An
            # object is new where the robot had looked before it *first* saw it: one seen
            # once in an earlier session and confirmed now is a discovery all the same.
            discovered = not track.confirmed and (
                track.mobility != 'movable' or not track.arrived or track.glimpsed)
            support = support_of(segment, self.tracks.values(), self.params.support_reach_m,
                                 self.params.support_gap_m)
            obs = self._with_guess(track, segment, obs)
            facts = ObservedFacts(self._room_of(obs.centroid_m), support, track.mobility,
                                  discovered, self._state_reads(track, segment, obs))
            if track.held is not None:
                track.held.append((obs, facts))
                continue
            changes = self.consolidator.observe(track.object_id, obs, facts)
            self._apply_changes(changes)
            confirmed.extend(changes)
            if track.mobility != 'movable' and track.confirmed and not changes:
                self._refine_furniture(track.object_id, obs)
        ids = {t.object_id for t in frame_tracks}
        for track in frame_tracks:
            track.co_seen |= ids - {track.object_id}
        self._merge_duplicates(frame_tracks, frame.stamp_s)
        confirmed.extend(self._resolve_held())
        t4 = time.perf_counter()
        timings['consolidate'] = (t4 - t3) * 1e3

        # After association: what this frame shows counts as looked-at from the next frame on.
        self.coverage.update(frame)
        self._note_place(frame)
        absent = self._negative_evidence(frame, set(associations.values()))
        timings['negative'] = (time.perf_counter() - t4) * 1e3
        self._prune(frame.stamp_s)
        self.frames_accepted += 1
        self.timings_ms.update(timings)
        return FrameResult(frame.stamp_s, True, None, len(seen), associations,
                           segment_objects, tuple(absent), tuple(confirmed), tuple(seen),
                           timings)

    # ------------------------------------------------------------- helpers
    def _with_guess(self, track: Track, segment: SegmentObservation,
                    obs: ObjectObservation) -> ObjectObservation:
        """The observation with the state its pixels suggest, where the reader would not vouch
        for it and memory knows none (a new object, or one never read): filled in, never
        changed."""
        if not segment.state_guess or obs.attributes.get('state'):
            return obs
        current = self.memory.current(track.object_id) if track.confirmed else None
        if current is not None and current.state:
            return obs
        return replace(obs, attributes={**obs.attributes, 'state': segment.state_guess})

    def _state_reads(self, track: Track, segment: SegmentObservation,
                     obs: ObjectObservation) -> int:
        """How many agreeing reads a state other than memory's needs (0: the buffer's rule,
        for states a label gave): few when the reader is reliable and the last read is long
        past (the state's learned τ), more a moment after the last read; a guess only fills
        in a state memory does not know (one read)."""
        if segment.state_guess and obs.attributes.get('state') == segment.state_guess:
            return 1
        if segment.state_error is None or not obs.attributes.get('state'):
            return 0
        since = obs.stamp_s - track.state_read_s
        track.state_read_s = max(track.state_read_s, obs.stamp_s)
        if not math.isfinite(since):
            return 0
        tau = self.memory.staleness.tau(f'{obs.label}#state', f'{track.object_id}#state',
                                        'state').tau_s
        p_change = -math.expm1(-max(since, 0.0) / tau)
        return state_reads_needed(segment.state_error, p_change, self.params.state_error)

    def _new_track(self, segment: SegmentObservation, arrived: bool) -> Track:
        obs = segment.observation
        object_id = f'object:{next(self._track_ids):06d}'
        colour = obs.attributes.get('color', '')
        track = Track(object_id, obs.label, colour, obs.centroid_m,
                      obs.extent_m, mobility_of(obs.label, dict(obs.attributes)),
                      obs.stamp_s, self.session)
        track.arrived = arrived
        track.glimpsed = arrived and self._glimpsed(obs.centroid_m)
        if arrived and reid_candidates(list(self.tracks.values()), self.session, obs.label,
                                       colour):
            track.held = []  # a known look-alike that moved here, or new: not yet known which
            self.held_newcomers += 1
        self.tracks[object_id] = track
        return track

    def identity_of(self, track_id: str) -> str:
        """The memory object a track id (as reported in a `FrameResult`) turned out to be."""
        seen: set[str] = set()
        while track_id in self.folded and track_id not in seen:
            seen.add(track_id)
            track_id = self.folded[track_id]
        return self.memory.resolve(track_id)

    def identity_at(self, track_id: str, stamp_s: float) -> str:
        """The memory object a track id reported at `stamp_s` stands for now, after every
        fold, repair and undone guess (a guessed object's sightings since the guess belong to
        the object split off it)."""
        object_id = self.identity_of(track_id)
        for original, split_off, since_s, undone_s in self.splits:
            if object_id == original and since_s <= stamp_s < undone_s:
                object_id = self.memory.resolve(split_off)
        return object_id

    def _refine_furniture(self, object_id: str, obs: ObjectObservation) -> None:
        """Memory's furniture centre follows the box of everything seen of it (not a move)."""
        current = self.memory.current(object_id)
        if current is None or not current.present or current.position_m is None:
            return
        if math.dist(current.position_m, obs.centroid_m) <= self.params.refine_step_m:
            return
        try:
            self.memory.refine_position(object_id, obs.stamp_s, obs.centroid_m, (obs.obs_id,))
            self.refinements += 1
        except RobotMemoryError as exc:
            log.debug('position of %s not refined: %s', object_id, exc)

    def _merge_duplicates(self, frame_tracks: list[Track], stamp_s: float) -> None:
        """Fold a confirmed track into an older one it duplicates (never seen together)."""
        radius = self.params.merge_radius_m
        for track in frame_tracks:
            if not track.confirmed or track.object_id not in self.tracks:
                continue
            for other in list(self.tracks.values()):
                if (other is track or not other.confirmed or not other.present
                        or other.label != track.label or other.object_id in track.co_seen
                        or (other.color and track.color and other.color != track.color
                            and track.mobility == 'movable')):
                    continue
                here = track.anchor_m or track.position_m
                there = other.anchor_m or other.position_m
                near = math.dist(here, there) <= radius
                if not near and track.box_m is not None and other.box_m is not None:
                    near = boxes_overlap(track.box_m, other.box_m)
                if not near:
                    continue
                keep, drop = sorted((track, other), key=lambda t: t.object_id)
                try:
                    self.memory.merge(keep.object_id, drop.object_id, stamp_s)
                except RobotMemoryError as exc:
                    log.debug('merge of %s into %s refused: %s', drop.object_id,
                              keep.object_id, exc)
                    continue
                self.merges += 1
                self.consolidator.buffer.forget(drop.object_id)
                self._absorb_co_seen(keep, drop)
                absorb_box(keep, drop, self.params.max_furniture_m)
                del self.tracks[drop.object_id]
                break

    def _apply_changes(self, changes: list[Candidate]) -> None:
        for change in changes:
            track = self.tracks.get(change.object_id)
            if track is None:
                continue
            if change.kind is ChangeKind.APPEARED:
                track.confirmed = True
                track.present = True
                track.anchor_m = change.value
                # The colour memory recorded (the confirming sighting's) is the track's now.
                track.color = self.memory.history(track.object_id).color or track.color
                if self.params.infer_moves and track.mobility == 'movable' and \
                        self.memory.is_discovery(track.object_id):
                    # A look-alike already known to be gone may be this one, moved.
                    lost = [t for t in self.tracks.values()
                            if t.confirmed and not t.present and t is not track
                            and alike(t, track)
                            and t.object_id not in track.co_seen]
                    if len(lost) == 1:
                        since = self.consolidator.latest_change_s(lost[0].object_id)
                        self._reconcile_lost(lost[0], max(change.first_s, since))
            elif change.kind is ChangeKind.MOVED:
                track.present = True
                track.anchor_m = change.value
                self.detection.left(track.object_id)
            elif change.kind is ChangeKind.REMOVED:
                track.present = False
                self.detection.left(track.object_id)
                if self.params.infer_moves:
                    self._reconcile_lost(track, change.first_s)

    def _note_place(self, frame: Frame) -> None:
        """Record that the robot looked from the place it stands at (within `place_radius_m`)."""
        x, y = float(frame.map_T_camera[0, 3]), float(frame.map_T_camera[1, 3])
        place = self.layout.nearest_place(x, y)
        if place is None:
            return
        px, py, _ = self.layout.get_place(place).position_m
        if math.hypot(px - x, py - y) <= self.params.place_radius_m:
            try:
                self.memory.observe_place(place, frame.stamp_s)
            except RobotMemoryError as exc:
                log.debug('place observation refused: %s', exc)

    def _room_of(self, position: tuple[float, float, float]) -> str:
        return self.layout.find_room_at(position[0], position[1]) or ''

    def _negative_evidence(self, frame: Frame, observed: set[str]) -> list[str]:
        """Count objects in clear view but not detected, towards confirming they left."""
        p = self.params
        absent: list[str] = []
        for view in clear_views(frame, self.tracks, max_range_m=p.negative_max_range_m,
                                margin_px=p.image_margin_px, min_size_px=p.min_projected_px,
                                occlusion_margin_m=p.occlusion_margin_m,
                                occlusion_tolerance_m=p.occlusion_tolerance_m):
            track = view.track
            # In clear view: the detector's record for this class (see core/detection.py).
            if track.object_id in observed:
                self.detection.seen(track.label, track.object_id)
                continue
            if shows_label(frame, view.rows, view.cols, track.label):
                continue  # the detector sees one there, too little of it to place: no evidence
            self.detection.not_seen(track.label, track.object_id)
            if view.depth_m < view.range_m + p.empty_margin_m and not _below_it(view):
                # A surface where the object's own (seen) face was: something is still there
                # and the detector did not name it. A miss, not evidence that it left.
                continue
            needed = self.detection.views_to_confirm_absence(track.label, p.absence_error)
            changes = self.consolidator.observe_absent(track.object_id, frame.stamp_s, -1,
                                                       needed)
            self._apply_changes(changes)
            absent.append(track.object_id)
        return absent

    def _prune(self, now_s: float) -> None:
        ttl = self.params.tentative_ttl_s
        stale = [k for k, t in self.tracks.items()
                 if not t.confirmed and now_s - t.last_seen_s > ttl]
        for object_id in stale:
            track = self.tracks.pop(object_id)
            if track.held is None:
                self.glimpses.append((track.position_m, track.session))
        if stale:
            self.consolidator.expire(now_s)
        for object_id in [k for k, g in self.guesses.items() if now_s - g.since_s > ttl]:
            del self.guesses[object_id]  # long unchallenged: taken for what happened

    def _glimpsed(self, point: tuple[float, float, float]) -> bool:
        """Whether something was glimpsed at `point` in an earlier session: a tentative track
        (kept or pruned) never confirmed, whatever class and colour the detector gave it."""
        near = self.params.glimpse_radius_m
        kept = ((t.position_m, t.session) for t in self.tracks.values()
                if not t.confirmed and t.held is None)
        return any(session < self.session and math.dist(where, point) <= near
                   for where, session in itertools.chain(self.glimpses, kept))

    def stats(self) -> dict[str, object]:
        """Counters for diagnostics."""
        c = self.consolidator.stats
        b = self.consolidator.buffer.stats
        return {
            'frames_accepted': self.frames_accepted,
            'frames_skipped': dict(self.skips),
            'tracks': len(self.tracks),
            'objects_in_memory': self.memory.num_objects(),
            'created': c.created, 'moved': c.moved, 'lost': c.lost,
            'state_changed': c.state_changed, 'rejected': c.rejected, 'merged': self.merges,
            'identity_repairs': self.repairs,
            'guessed_moves': len(self.guesses), 'guesses_undone': len(self.splits),
            'held_newcomers': self.held_newcomers, 'held_resolved': self.held_resolved,
            'furniture_refined': self.refinements,
            'buffer_hit_rate': b.hit_rate, 'transient_dropped': b.dropped_transient,
            # How often the detector names a known object's colour differently (learned).
            'colour_flip_rate': round(self.colours.flip_rate, 4),
            # How often an object in clear view is found (the planner's sensor model).
            'detection_prob': round(self.detection.prob(), 4),
            'detection_prob_by_class': {k: round(self.detection.prob(k), 4)
                                        for k in sorted(self.detection.found)},
        }


def _learn_look(track: Track, segment: SegmentObservation) -> None:
    """Fold one sighting's appearance and height into the track's (running means; a
    truncated view's height is not the object's)."""
    if segment.look is not None:
        track.look = segment.look.copy() if track.look is None else \
            0.8 * track.look + 0.2 * segment.look
    if not segment.truncated:
        h = segment.observation.extent_m[2]
        track.height_m = h if track.height_m <= 0 else 0.8 * track.height_m + 0.2 * h


def _voted_colour(track: Track, obs: ObjectObservation) -> ObjectObservation:
    """The observation with the colour its track's sightings name most often (ties: the
    earlier name)."""
    colour = obs.attributes.get('color', '')
    if not colour:
        return obs
    track.colour_votes[colour] += 1
    voted = track.colour_votes.most_common(1)[0][0]
    if voted == colour:
        return obs
    return replace(obs, attributes={**obs.attributes, 'color': voted})


class _LazyFlags:
    """A read-only sequence of booleans computed on first access (they cost a projection)."""

    def __init__(self, compute: Callable[[int], bool], n: int) -> None:
        self._compute = compute
        self._cache: dict[int, bool] = {}
        self._n = n

    def __getitem__(self, i: int) -> bool:
        if i not in self._cache:
            self._cache[i] = self._compute(i)
        return self._cache[i]

    def __len__(self) -> int:
        return self._n


def _below_it(view: ClearView) -> bool:
    """Whether, looking down on the spot, the ray meets a surface in the lowest third of where
    the object stood: the shelf or floor it stood on, seen empty. A flat object (keys, a book)
    is thinner than any depth margin, so depth alone cannot tell it from its support."""
    if not view.from_above:
        return False
    track = view.track
    z_m = (track.anchor_m or track.position_m)[2]
    return view.surface_m[2] < z_m - track.extent_m[2] / 6

