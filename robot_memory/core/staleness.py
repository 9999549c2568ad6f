"""Staleness belief: P(object still where last seen | Δt) = exp(−Δt / τ).

τ is learned online per class, and per instance once it has a history, from the moves the
robot itself observed. An object that stayed put from `t_from` to its last sighting contributes
censored exposure; a move contributes one event at the midpoint of the window in which it
happened. With a conjugate prior of `prior_weight` pseudo-moves at the class prior τ0, the
estimate is τ = (w·τ0 + exposure) / (w + moves) — the exponential MLE shrunk towards the prior.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from robot_memory.exceptions import InvalidInputError

__all__ = ['DEFAULT_TAU_PRIORS_S', 'StalenessModel', 'StalenessParams', 'TauEstimate']

DAY_S = 86400.0
DEFAULT_TAU_PRIORS_S: Mapping[str, float] = MappingProxyType({
    'movable': 2.0 * DAY_S,
    'furniture': 180.0 * DAY_S,
    'static': 3650.0 * DAY_S,
    'state': 1.0 * DAY_S,  # on/off, open/closed: people toggle things about daily
})


@dataclass(frozen=True, slots=True)
class StalenessParams:
    """Priors of the staleness model."""

    mobility_prior_tau_s: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_TAU_PRIORS_S))
    class_prior_tau_s: Mapping[str, float] = field(default_factory=dict)
    prior_weight: float = 1.0
    instance_weight: float = 2.0

    def __post_init__(self) -> None:
        for name, tau in {**self.mobility_prior_tau_s, **self.class_prior_tau_s}.items():
            if not (tau > 0 and math.isfinite(tau)):
                raise InvalidInputError(f'prior tau for {name!r} must be positive, got {tau!r}')
        if self.prior_weight <= 0 or self.instance_weight <= 0:
            raise InvalidInputError('prior weights must be positive')


@dataclass(frozen=True, slots=True)
class TauEstimate:
    """A learned time constant and the evidence behind it."""

    tau_s: float
    exposure_s: float
    moves: int


@dataclass(slots=True)
class _Tally:
    exposure_s: float = 0.0
    moves: int = 0


class StalenessModel:
    """Online estimate of how long objects stay where they were seen."""

    def __init__(self, params: StalenessParams | None = None) -> None:
        self.params = params or StalenessParams()
        self._by_class: dict[str, _Tally] = {}
        self._by_instance: dict[str, _Tally] = {}

    def record_stay(self, label: str, object_id: str, duration_s: float) -> None:
        """Add censored exposure: the object was seen in place for `duration_s`."""
        if duration_s <= 0:
            return
        for tally in self._tallies(label, object_id):
            tally.exposure_s += duration_s

    def record_move(self, label: str, object_id: str, extra_exposure_s: float) -> None:
        """Add one observed move, with the exposure between last sighting and the move."""
        for tally in self._tallies(label, object_id):
            tally.exposure_s += max(extra_exposure_s, 0.0)
            tally.moves += 1

    def _tallies(self, label: str, object_id: str) -> tuple[_Tally, _Tally]:
        return (self._by_class.setdefault(label, _Tally()),
                self._by_instance.setdefault(object_id, _Tally()))

    def prior_tau_s(self, label: str, mobility: str = 'movable') -> float:
        """The prior τ of a class (class-specific prior, else by mobility)."""
        if label in self.params.class_prior_tau_s:
            return float(self.params.class_prior_tau_s[label])
        priors = self.params.mobility_prior_tau_s
        return float(priors.get(mobility, priors.get('movable', 2.0 * DAY_S)))

    def class_tau(self, label: str, mobility: str = 'movable') -> TauEstimate:
        """τ of a class from its observed stays and moves."""
        tally = self._by_class.get(label, _Tally())
        w = self.params.prior_weight
        tau = (w * self.prior_tau_s(label, mobility) + tally.exposure_s) / (w + tally.moves)
        return TauEstimate(tau, tally.exposure_s, tally.moves)

    def tau(self, label: str, object_id: str | None = None,
            mobility: str = 'movable') -> TauEstimate:
        """τ of an instance, shrunk towards its class; of the class when no id is given."""
        cls = self.class_tau(label, mobility)
        tally = self._by_instance.get(object_id) if object_id else None
        if tally is None or (tally.moves == 0 and tally.exposure_s == 0):
            return cls
        w = self.params.instance_weight
        tau = (w * cls.tau_s + tally.exposure_s) / (w + tally.moves)
        return TauEstimate(tau, tally.exposure_s, tally.moves)

    def p_still_there(self, label: str, dt_s: float, object_id: str | None = None,
                      mobility: str = 'movable') -> float:
        """Probability that the object is still where it was last seen `dt_s` ago."""
        if dt_s <= 0:
            return 1.0
        return math.exp(-dt_s / self.tau(label, object_id, mobility).tau_s)
