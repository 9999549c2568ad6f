"""How often the detector finds an object that is in clear view: learned per class.

The planner's sensor model — the chance that looking at a place shows what is there — comes
from the robot's own record rather than a constant. A view counts when a known object's spot
was in clear view (inside the image, in range, large enough, nothing in front): found if the
object was seen there, missed if not. A miss is only a miss once the object is seen again in
the same spot (until then it may have truly left, which is no fault of the detector); a miss
followed by a confirmed loss or move is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ['DetectionStats']


@dataclass(slots=True)
class DetectionStats:
    """Found / missed counts per class, with a prior of `prior_views` views at `prior_prob`."""

    prior_prob: float = 0.9
    prior_views: float = 20.0
    found: dict[str, int] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)
    _pending: dict[str, tuple[str, int]] = field(default_factory=dict)

    def seen(self, label: str, object_id: str) -> None:
        """The object was found where it was in clear view; earlier misses were misses."""
        self.found[label] = self.found.get(label, 0) + 1
        pending = self._pending.pop(object_id, None)
        if pending is not None:
            self.missed[pending[0]] = self.missed.get(pending[0], 0) + pending[1]

    def not_seen(self, label: str, object_id: str) -> None:
        """The object's spot was in clear view and it was not found (yet to be judged)."""
        _, n = self._pending.get(object_id, (label, 0))
        self._pending[object_id] = (label, n + 1)

    def left(self, object_id: str) -> None:
        """The object was confirmed gone or moved: its pending misses were right."""
        self._pending.pop(object_id, None)

    def prob(self, label: str | None = None) -> float:
        """P(found | in clear view) for a class, or over all classes.

        Over all classes: the counts with a prior of `prior_views` views at `prior_prob`. A
        class's own rate starts from that pooled rate (with the same weight) rather than
        from the prior: a class seen a few times is found about as often as everything else
        this detector finds — a detector that never missed anything is not assumed to miss
        keys one time in ten because keys were seen only twice.
        """
        found, missed = sum(self.found.values()), sum(self.missed.values())
        pooled = (found + self.prior_prob * self.prior_views) / (
            found + missed + self.prior_views)
        if label is None:
            return pooled
        found, missed = self.found.get(label, 0), self.missed.get(label, 0)
        return (found + pooled * self.prior_views) / (found + missed + self.prior_views)

    def views_to_confirm_absence(self, label: str, max_error: float = 0.05,
                                 most: int = 6) -> int:
        """Empty views after which an object of this class is gone with P ≥ 1 − max_error.

        With P(found | in view) = p, k views in a row all miss a present object with
        probability (1 − p)^k; the smallest k with that under `max_error` (at most `most`).
        """
        miss = 1.0 - self.prob(label)
        if miss <= 0:
            return 1
        k = math.ceil(math.log(max_error) / math.log(miss)) if miss < 1 else most
        return max(1, min(int(k), most))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe counts (pending misses are not kept)."""
        return {'found': dict(sorted(self.found.items())),
                'missed': dict(sorted(self.missed.items()))}

    def load_dict(self, data: dict[str, Any]) -> None:
        """Counts written by `to_dict`."""
        self.found = {str(k): int(v) for k, v in data.get('found', {}).items()}
        self.missed = {str(k): int(v) for k, v in data.get('missed', {}).items()}
        self._pending.clear()
