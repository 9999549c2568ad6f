"""Which memory object is this observation? Gated one-to-one assignment, then re-identification.

Segment ids are never trusted across frames. Each frame's observations are assigned to tracks
(memory objects and tentative new ones) in two rounds, each a `linear_sum_assignment`:

1. local: same class, within `gate_m` of where the track was last seen; cost is the distance
   plus a penalty when the colours disagree;
2. re-identification: observations left over are matched to tracks of the same class and
   colour that have *not* been confirmed at their own place this session (moved or lost
   objects) — this is what makes a moved backpack a move and not a new object. Only when the
   identity is beyond doubt: the look-alike's own spot was seen empty. Two identical mugs are
   never told apart by which is nearer.

Anything still unmatched starts a new tentative track (held, if it may be a known look-alike).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

from robot_memory.core.consolidation import ObservedFacts
from robot_memory.core.types import ObjectObservation, Vec3
from robot_memory.perception.attributes import appearance_distance

__all__ = [
    'AssociationParams',
    'Box',
    'ColourReliability',
    'Flags',
    'Track',
    'alike',
    'associate',
    'clearly_nearest',
    'look_difference',
    'lookalike',
    'reid_candidates',
]

_BIG = 1e6


class Flags(Protocol):
    """Booleans by index (a list, or flags computed on first access)."""

    def __getitem__(self, i: int, /) -> bool: ...

Box = tuple[Vec3, Vec3]  # axis-aligned box in `map`: (min corner, max corner)


@dataclass(frozen=True, slots=True)
class AssociationParams:
    """Gates and penalties of the assignment."""

    gate_m: float = 0.5
    reid_gate_m: float = 50.0
    # Two known, different colours never match (the red mug put where the blue one stood is
    # the red mug) while the detector has named one object's colour differently in fewer than
    # `color_gate_max_flip` of its sightings (learned online, `ColourReliability`); past that,
    # or with `color_gate` false, a different colour only costs `color_penalty_m` of distance.
    # Measured: with 5 % of colours wrong the rule still answers more questions right (LA-EQA
    # 0.935 vs 0.907); with 12 % it loses objects, and the cost is better.
    color_gate: bool = True
    color_gate_max_flip: float = 0.1
    color_penalty_m: float = 0.6
    color_check_m: float = 0.3  # one same-class object this close: surely the same one


@dataclass(slots=True)
class Track:
    """Perception's working record of one object (in memory, or tentative)."""

    object_id: str
    label: str
    color: str
    position_m: Vec3
    extent_m: Vec3
    mobility: str
    last_seen_s: float
    session: int = -1
    present: bool = True
    confirmed: bool = False
    anchor_m: Vec3 | None = None  # where long-term memory has it
    box_m: Box | None = None
    co_seen: set[str] = field(default_factory=set)  # tracks seen in the same frame
    # How it looks (`attributes.describe`, averaged over its sightings) and how tall it is:
    # None / 0 where unknown (read back from a memory file, or labels without pixels).
    look: np.ndarray | None = None
    height_m: float = 0.0
    # Colour names read from its sightings' pixels: the one most often read is its colour
    # (one sighting in a dim corner or at a grazing angle reads another now and then).
    colour_votes: Counter[str] = field(default_factory=Counter)
    state_read_s: float = -math.inf  # when a state was last read from its pixels
    # A newcomer that may be one of several known look-alikes: its observations wait here
    # (not in memory) until one of them is found gone or all are accounted for.
    held: list[tuple[ObjectObservation, ObservedFacts]] | None = None
    arrived: bool = False  # first seen where the robot had looked before (not discovered)
    # Something was glimpsed at its spot in an earlier session and never confirmed (most
    # likely this object, misread or barely seen): it stood there then, so it is not new.
    glimpsed: bool = False
    # Released at a patrol's end while look-alikes were still unaccounted for: it may yet turn
    # out to be one of them, moved (`LookAlikes._reconcile_lost`).
    unsure: bool = False


@dataclass(slots=True)
class ColourReliability:
    """How often the detector names one object's colour differently, learned online.

    Counted on sightings that can only be one object: a single known object of the class
    within `color_check_m`. It starts as if 50 sightings had agreed, so a perfect detector's
    colours are trusted from the first frame and one odd sighting does not change that.
    Which names get mixed up is counted too (colours read from pixels: white and grey in a
    dim corner, blue and navy): a pair read for each other in at least `confusable_share` of
    the sightings of the two (and at least twice) no longer rules a match out.
    """

    agree: int = 0
    differ: int = 0
    prior_sightings: float = 50.0
    confusable_share: float = 0.02
    mixed: Counter[tuple[str, str]] = field(default_factory=Counter)
    sightings: Counter[str] = field(default_factory=Counter)

    @property
    def flip_rate(self) -> float:
        """Estimated share of sightings whose colour is not the object's."""
        return (self.differ + 0.25) / (self.agree + self.differ + self.prior_sightings)

    def count(self, colour: str, tracks: Sequence[Track], near: np.ndarray) -> None:
        """Count one sighting against the tracks flagged `near` (same class, close by)."""
        if not colour:
            return
        close = [tracks[j] for j in np.flatnonzero(near).tolist()
                 if tracks[j].confirmed and tracks[j].color]
        if len(close) != 1:
            return
        known = close[0].color
        self.sightings[known] += 1
        if known == colour:
            self.agree += 1
        else:
            self.differ += 1
            self.mixed[_pair(known, colour)] += 1

    def confusable(self, a: str, b: str) -> bool:
        """Whether two colour names are read for each other often enough not to tell two
        objects apart."""
        mixed = self.mixed.get(_pair(a, b), 0)
        return mixed >= 2 and mixed >= self.confusable_share * (self.sightings[a]
                                                                + self.sightings[b])


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _colour_cost(a: str, b: str, penalty: float) -> float:
    return penalty if a and b and a != b else 0.0


def associate(observations: Sequence[tuple[str, str, tuple[float, float, float]]],
              tracks: Sequence[Track], session: int,
              params: AssociationParams | None = None,
              vacated: set[int] | None = None,
              colours: ColourReliability | None = None,
              arrived: Flags | None = None,
              looks: Sequence[tuple[np.ndarray | None, float]] | None = None
              ) -> list[int | None]:
    """Assign observations `(label, colour, position)` to track indices (None: new track).

    Re-identification is limited by what the robot knows: an observation away from every
    known object may only be a look-alike whose own spot was found empty (`vacated` track
    indices); otherwise it is left unmatched (new, or held by the caller until it is known).
    `colours` (updated here) decides whether a colour mismatch rules a match out.
    `arrived[i]`: observation i stands where the robot had looked before and seen no such
    object. Only such an arrival is re-identified as a vacated look-alike away from that
    one's spot: one on a spot never looked at may have stood there all along (a look-alike
    never seen before), so it starts a track of its own and memory folds it into the lost one
    later only if nothing else can be it (`LookAlikes._reconcile_lost`). Away from their
    spots, two vacated look-alikes for one observation, or two observations for one vacated
    look-alike, are left unmatched: which is which is not known. `looks[i]`: observation i's
    appearance descriptor and height; a look-alike must look like it too.
    """
    p = params or AssociationParams()
    n_obs, n_tr = len(observations), len(tracks)
    result: list[int | None] = [None] * n_obs
    if n_obs == 0 or n_tr == 0:
        return result
    obs_pos = np.array([o[2] for o in observations], dtype=float)
    tr_pos = np.array([t.position_m for t in tracks], dtype=float)
    anchors = np.array([t.anchor_m or t.position_m for t in tracks], dtype=float)
    # A track is near an observation if either its latest sighting or its remembered place
    # is: a one-frame misdetection elsewhere must not pull the object away from home.
    dist = np.minimum(np.linalg.norm(obs_pos[:, None, :] - tr_pos[None, :, :], axis=2),
                      np.linalg.norm(obs_pos[:, None, :] - anchors[None, :, :], axis=2))
    for j, track in enumerate(tracks):
        if track.box_m is not None:
            # Large furniture is seen in parts: distance to its accumulated box, not centre.
            lo, hi = np.asarray(track.box_m[0]), np.asarray(track.box_m[1])
            gap = np.maximum(np.maximum(lo - obs_pos, obs_pos - hi), 0.0)
            dist[:, j] = np.minimum(dist[:, j], np.linalg.norm(gap, axis=1))
    same_class = np.array([[o[0] == t.label for t in tracks] for o in observations])

    present = np.array([t.present for t in tracks])
    if colours is not None:
        for i, (_, colour, _) in enumerate(observations):
            colours.count(colour, tracks, same_class[i] & present & (dist[i] <= p.color_check_m))
    hard = p.color_gate and (colours is None or colours.flip_rate < p.color_gate_max_flip)
    cost = np.full((n_obs, n_tr), _BIG)
    for i, (_, colour, _) in enumerate(observations):
        for j, track in enumerate(tracks):
            if same_class[i, j] and track.present and dist[i, j] <= p.gate_m:
                # Furniture stays where it stands; the colour read off one side of it in one
                # light is no reason to take it for another piece.
                if hard and colour and track.color and colour != track.color and \
                        track.mobility == 'movable' and not (
                            colours is not None and colours.confusable(colour, track.color)):
                    continue
                cost[i, j] = dist[i, j] + _colour_cost(colour, track.color, p.color_penalty_m)
    taken: set[int] = set()
    rows, cols = linear_sum_assignment(cost)
    for i, j in zip(rows, cols, strict=True):
        if cost[i, j] < _BIG:
            result[i] = int(j)
            taken.add(int(j))

    left = [i for i in range(n_obs) if result[i] is None]
    # Furniture is not carried around: it is only ever matched where it stands.
    candidates = [j for j, t in enumerate(tracks)
                  if j not in taken and t.confirmed and t.mobility == 'movable'
                  and (t.session != session or not t.present)]
    if not left or not candidates:
        return result
    cost2 = np.full((len(left), len(candidates)), _BIG)
    vacated = vacated or set()
    far_claims: dict[int, int] = {}
    choices: list[list[int]] = []
    for i in left:
        label, colour, _ = observations[i]
        look, height = looks[i] if looks is not None else (None, 0.0)
        # Which look-alike this is, is known when its own spot was seen empty. Anything else
        # is a guess: the nearest of two identical mugs, or the only one not yet seen today
        # when the newcomer may be one the robot never made out before. Those are left
        # unmatched; the caller holds them until the evidence is in.
        eligible = [b for b, j in enumerate(candidates)
                    if j in vacated and lookalike(tracks[j], label, colour)
                    and dist[i, j] <= p.reid_gate_m]
        home = [b for b in eligible if dist[i, candidates[b]] <= p.gate_m]
        if home:
            eligible = home  # at a vacated one's own spot: that object found again
        elif len(eligible) > 1:
            # Away from every spot, and two or more look-alikes left theirs: only how they
            # look may say which came here; identical ones (two mugs of one set) it cannot,
            # and memory does not pick: the caller holds the newcomer (if it arrived).
            pick = clearly_nearest([tracks[candidates[b]] for b in eligible], look, height)
            eligible = [eligible[pick]] if pick is not None else []
        elif arrived is not None and eligible and not arrived[i]:
            # Far from the vacated look-alike's spot, only an arrival may be it. Asked last:
            # whether the spot was seen empty before costs a projection into past views.
            eligible = []
        choices.append(eligible)
        if not home:
            for b in eligible:
                far_claims[b] = far_claims.get(b, 0) + 1
    for a, eligible in enumerate(choices):
        for b in eligible:
            if far_claims.get(b, 0) > 1 and dist[left[a], candidates[b]] > p.gate_m:
                continue  # two newcomers away from its spot could each be this one
            cost2[a, b] = dist[left[a], candidates[b]]
    rows, cols = linear_sum_assignment(cost2)
    for a, b in zip(rows, cols, strict=True):
        if cost2[a, b] < _BIG:
            result[left[a]] = candidates[b]
    return result


# Which of two or more look-alikes a newcomer is, is told by how it looks (appearance
# descriptor and height) only when one of them is clearly nearer: its own difference below
# `LOOK_MATCH` and every other's at least `LOOK_MARGIN` more. Measured on patrols of home
# worlds: one object's descriptor varies between views by 0.26 (90th percentile) and its
# height by ±22 %; half of the pairs of different objects of one class and colour name differ
# by less than 0.09 — so appearance decides between look-alikes, it never rules one out.
LOOK_MATCH = 0.2
LOOK_MARGIN = 0.3


def look_difference(track: Track, look: np.ndarray | None, height_m: float) -> float | None:
    """How differently an observation looks from a track (descriptor + log height ratio);
    None when either is unknown."""
    if look is None or track.look is None:
        return None
    height = abs(math.log(height_m / track.height_m)) if height_m > 0 and \
        track.height_m > 0 else 0.0
    return appearance_distance(track.look, look) + height


def lookalike(track: Track, label: str, colour: str) -> bool:
    """Whether a track could be an object of this class and colour (across a home, a colour
    of its own rules an object out whatever the detector; how it looks never does:
    `clearly_nearest`)."""
    return track.label == label and not (colour and track.color and colour != track.color)


def alike(a: Track, b: Track) -> bool:
    """Whether two tracks could be one object."""
    return lookalike(a, b.label, b.color)


def clearly_nearest(tracks: Sequence[Track], look: np.ndarray | None,
                    height_m: float) -> int | None:
    """Index of the one track an observation clearly looks like, if there is one."""
    diffs: list[float] = []
    for t in tracks:
        d = look_difference(t, look, height_m)
        if d is None:
            return None
        diffs.append(d)
    if len(diffs) < 2:
        return None
    order = sorted(range(len(diffs)), key=diffs.__getitem__)
    best, second = diffs[order[0]], diffs[order[1]]
    if best <= LOOK_MATCH and second - best >= LOOK_MARGIN:
        return order[0]
    return None


def reid_candidates(tracks: Sequence[Track], session: int, label: str,
                    colour: str) -> list[Track]:
    """Confirmed movable look-alikes not yet accounted for this session (moved or lost)."""
    return [t for t in tracks
            if t.confirmed and t.mobility == 'movable'
            and lookalike(t, label, colour)
            and (t.session != session or not t.present)]

