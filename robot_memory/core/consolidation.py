"""Observations of known objects → short-term buffer → confirmed events in episodic memory.

Perception decides *which* memory object an observation belongs to; this module decides
*whether it means a change*. Agreement with memory is logged as a sighting; disagreement
(new object, moved, state changed, gone) becomes a candidate in the buffer and reaches
long-term memory only once confirmed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from robot_memory.core.buffer import BufferParams, Candidate, ChangeKind, ShortTermBuffer
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.events import FactKey
from robot_memory.core.types import ObjectObservation
from robot_memory.exceptions import InvalidInputError, RobotMemoryError

__all__ = ['ConsolidationParams', 'ConsolidationStats', 'Consolidator', 'ObservedFacts',
           'state_reads_needed']

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConsolidationParams:
    """When an observation counts as a change."""

    move_tolerance_m: float = 0.3
    furniture_move_tolerance_m: float = 1.0

    def __post_init__(self) -> None:
        if not (self.move_tolerance_m > 0 and self.furniture_move_tolerance_m > 0):
            raise InvalidInputError(
                f'move tolerances must be positive, got {self.move_tolerance_m!r}, '
                f'{self.furniture_move_tolerance_m!r}')


@dataclass(frozen=True, slots=True)
class ObservedFacts:
    """What one observation says about an object's time-varying facts."""

    room_id: str = ''
    support: tuple[str, str] | None = None
    mobility: str = 'movable'
    discovered: bool = False  # first seen where the robot had never looked
    # Agreeing reads that confirm a state other than memory's (0: the buffer's own rule), from
    # how often the state reader errs and how likely a change was since the last read
    # (`state_reads_needed`).
    state_reads: int = 0


@dataclass(slots=True)
class ConsolidationStats:
    """Counters of what the consolidator did."""

    observations: int = 0
    sightings_logged: int = 0
    created: int = 0
    moved: int = 0
    lost: int = 0
    state_changed: int = 0
    rejected: int = 0


def state_reads_needed(read_error: float, p_change: float, max_error: float,
                       most: int = 4) -> int:
    """Agreeing reads of a state other than the one memory holds after which the object
    changed state with P ≥ 1 − `max_error`.

    Each read is wrong with P `read_error`, independently; before the reads, a change was
    `p_change` likely (a state seen a second ago has almost surely not changed, one seen
    yesterday may well have). Posterior odds = prior odds × ((1 − e) / e)^k: the smallest
    such k, between 1 and `most`.
    """
    e = min(max(read_error, 1e-6), 0.5)
    p = min(max(p_change, 1e-9), 1.0 - 1e-9)
    if e >= 0.5:
        return most
    need = math.log((1.0 - max_error) / max_error) - math.log(p / (1.0 - p))
    k = math.ceil(need / math.log((1.0 - e) / e) - 1e-9)
    return max(1, min(int(k), most))


class Consolidator:
    """Feeds associated observations through the buffer into episodic memory."""

    def __init__(self, memory: EpisodicMemory, buffer: ShortTermBuffer | None = None,
                 params: ConsolidationParams | None = None) -> None:
        self.memory = memory
        self.buffer = buffer if buffer is not None else ShortTermBuffer(BufferParams())
        self.params = params or ConsolidationParams()
        self.stats = ConsolidationStats()

    def _close(self, a: Sequence[float], b: Sequence[float], mobility: str = 'movable') -> bool:
        # Furniture is seen in parts from each viewpoint; only a large shift is a move.
        tol = (self.params.move_tolerance_m if mobility == 'movable'
               else self.params.furniture_move_tolerance_m)
        return math.dist(a, b) <= tol

    def observe(self, object_id: str, obs: ObjectObservation,
                facts: ObservedFacts | None = None) -> list[Candidate]:
        """Take one observation of `object_id`; returns the changes it confirmed."""
        facts = facts or ObservedFacts()
        self.stats.observations += 1
        stamp, pos = obs.stamp_s, obs.centroid_m
        state = obs.attributes.get('state', '')
        self.buffer.touch(object_id, stamp, facts.mobility)
        self.buffer.remember(object_id, obs)
        current = self.memory.current(object_id)
        confirmed: list[Candidate] = []
        if current is not None and stamp < self._not_before(object_id, -math.inf):
            # Older than what memory already knows of this object: it cannot change it.
            self.stats.rejected += 1
            log.warning('observation %d of %s at %s is older than its latest change',
                        obs.obs_id, object_id, stamp)
            return confirmed
        try:
            if current is None:
                # Its state as last read, if this sighting showed none (a state reader says
                # nothing of a view that cannot show it).
                state = state or next((o.attributes['state'] for o in reversed(
                    self.buffer.recent(object_id)) if isinstance(o, ObjectObservation)
                    and o.attributes.get('state')), '')
                cand = self.buffer.propose(
                    object_id, ChangeKind.APPEARED, (obs.label, state), stamp, obs.obs_id,
                    position=pos, agrees=lambda a, b: a[0] == b[0])
                if cand is not None:
                    self.memory.create_object(
                        object_id, cand.first_s, obs.label,
                        {FactKey.POSITION: cand.value, FactKey.ROOM: facts.room_id,
                         FactKey.SUPPORT: facts.support, FactKey.STATE: state},
                        cand.obs_ids, obs.attributes.get('color', ''), facts.mobility,
                        facts.discovered)
                    self.stats.created += 1
                    confirmed.append(cand)
                return confirmed
            mobility = current.mobility
            moved = not current.present or current.position_m is None or \
                not self._close(current.position_m, pos, mobility)
            if moved:
                cand = self.buffer.propose(
                    object_id, ChangeKind.MOVED, pos, stamp, obs.obs_id, position=pos,
                    agrees=lambda a, b: self._close(a, b, mobility))
                if cand is not None:
                    self._apply_move(object_id, cand, facts)
                    confirmed.append(cand)
            else:
                self.buffer.contradict(object_id, ChangeKind.MOVED, ChangeKind.REMOVED)
            if state and state != current.state:
                # A state memory never knew is filled in by one read the reader vouches for.
                reads = (1 if not current.state else facts.state_reads) \
                    if facts.state_reads else None
                cand = self.buffer.propose(object_id, ChangeKind.STATE_CHANGED, state, stamp,
                                           obs.obs_id, views_needed=reads)
                if cand is not None:
                    self.memory.set_fact(object_id, self._not_before(object_id, cand.first_s),
                                         FactKey.STATE, cand.value, cand.obs_ids)
                    self.stats.state_changed += 1
                    confirmed.append(cand)
            else:
                self.buffer.contradict(object_id, ChangeKind.STATE_CHANGED)
            if not moved and (not state or state == current.state):
                if self.memory.seen(object_id, stamp, (obs.obs_id,)):
                    self.stats.sightings_logged += 1
                if current.present:
                    self._refresh_relations(object_id, stamp, facts, obs.obs_id)
        except RobotMemoryError as exc:
            self.stats.rejected += 1
            log.warning('observation %d of %s rejected: %s', obs.obs_id, object_id, exc)
        return confirmed

    def _refresh_relations(self, object_id: str, stamp: float, facts: ObservedFacts,
                           obs_id: int) -> None:
        current = self.memory.current(object_id)
        if current is None:
            return
        # Room and support follow the position; refine them only when perception is sure.
        if facts.room_id and not current.room_id:
            self.memory.set_fact(object_id, stamp, FactKey.ROOM, facts.room_id, (obs_id,))
        if facts.support and not current.support:
            # What it stands on was not made out when it was first seen (the furniture's box
            # had not grown yet): a refinement where it stands, not a move.
            self.memory.set_fact(object_id, stamp, FactKey.SUPPORT, facts.support, (obs_id,))

    def latest_change_s(self, object_id: str) -> float:
        """When memory last changed this object: older observations cannot change it."""
        return self._not_before(object_id, -math.inf)

    def _not_before(self, object_id: str, stamp_s: float) -> float:
        """The earliest stamp a confirmed change may take without rewriting later facts.

        A candidate is dated from its first observation, but memory may have changed the object
        since (a loss confirmed while a move was pending): the change then starts after that.
        """
        history = self.memory.history(object_id)
        latest = history.created_s
        for intervals in history.facts.values():
            if intervals:
                last = intervals[-1]
                latest = max(latest, last.t_from if last.t_to is None else last.t_to)
        return max(stamp_s, latest)

    def _apply_move(self, object_id: str, cand: Candidate, facts: ObservedFacts) -> None:
        stamp = self._not_before(object_id, cand.first_s)
        # The object was seen somewhere: older evidence that it is gone no longer holds.
        self.buffer.contradict(object_id, ChangeKind.REMOVED)
        self.memory.set_fact(object_id, stamp, FactKey.POSITION, cand.value, cand.obs_ids)
        self.memory.set_fact(object_id, stamp, FactKey.ROOM, facts.room_id, cand.obs_ids)
        self.memory.set_fact(object_id, stamp, FactKey.SUPPORT, facts.support, cand.obs_ids)
        self.stats.moved += 1

    def relocate(self, object_id: str, observations: list[ObjectObservation],
                 facts: ObservedFacts) -> list[Candidate]:
        """Move an object to where these observations (of it, told apart late) place it.

        Perception held the observations while it could not tell which look-alike they were
        of; now that it can, they confirm the move as a run of agreeing sightings would.
        """
        current = self.memory.current(object_id)
        if current is None or not observations:
            return []
        first = observations[0]
        n = len(observations)
        pos = tuple(sum(o.centroid_m[i] for o in observations) / n for i in range(3))
        obs_ids = tuple(o.obs_id for o in observations)
        if current.present and current.position_m is not None and \
                self._close(current.position_m, pos, current.mobility):
            self.memory.seen(object_id, observations[-1].stamp_s, obs_ids)
            return []
        cand = Candidate(object_id, ChangeKind.MOVED, pos, first.stamp_s,
                         observations[-1].stamp_s, n, obs_ids)
        try:
            self._apply_move(object_id, cand, facts)
        except RobotMemoryError as exc:
            self.stats.rejected += 1
            log.warning('relocation of %s rejected: %s', object_id, exc)
            return []
        return [cand]

    def observe_absent(self, object_id: str, stamp_s: float, obs_id: int,
                       views_needed: int | None = None) -> list[Candidate]:
        """Negative evidence: the spot where memory has the object is visible and empty.

        `views_needed`: empty views that confirm the loss (None: the buffer's rule).
        """
        current = self.memory.current(object_id)
        if current is None or not current.present:
            return []
        self.buffer.touch(object_id, stamp_s, current.mobility)
        cand = self.buffer.propose(object_id, ChangeKind.REMOVED, current.position_m, stamp_s,
                                   obs_id, views_needed=views_needed)
        if cand is None:
            return []
        try:
            self.memory.lose(object_id, self._not_before(object_id, cand.first_s),
                             cand.obs_ids)
        except RobotMemoryError as exc:
            self.stats.rejected += 1
            log.warning('loss of %s rejected: %s', object_id, exc)
            return []
        self.stats.lost += 1
        return [cand]

    def expire(self, now_s: float) -> int:
        """Drop unconfirmed candidates older than the buffer's `drop_after_s`."""
        return self.buffer.expire(now_s)
