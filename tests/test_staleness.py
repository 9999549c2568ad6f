"""Tests of the staleness belief."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robot_memory.core import StalenessModel, StalenessParams
from robot_memory.core.staleness import DAY_S
from robot_memory.exceptions import InvalidInputError


def test_the_prior_gives_exp_decay() -> None:
    model = StalenessModel()
    assert model.p_still_there('mug', 2 * DAY_S) == pytest.approx(math.exp(-1))
    assert model.p_still_there('mug', 0.0) == 1.0
    assert model.p_still_there('sofa', DAY_S, mobility='furniture') > 0.99


def test_tau_is_learned_from_observed_moves() -> None:
    rng = np.random.default_rng(0)
    true_tau = 6 * 3600.0
    model = StalenessModel(StalenessParams(prior_weight=1.0))
    for k in range(400):
        stay = rng.exponential(true_tau)
        model.record_stay('mug', f'mug_{k % 5}', stay)
        model.record_move('mug', f'mug_{k % 5}', 0.0)
    assert model.class_tau('mug').tau_s == pytest.approx(true_tau, rel=0.15)
    assert model.class_tau('mug').moves == 400


def test_an_instance_with_history_departs_from_its_class() -> None:
    model = StalenessModel()
    for _ in range(50):
        model.record_stay('mug', 'mug_travel', 3600.0)
        model.record_move('mug', 'mug_travel', 0.0)
    for _ in range(5):
        model.record_stay('mug', 'mug_shelf', 10 * DAY_S)
    assert model.tau('mug', 'mug_travel').tau_s < model.tau('mug', 'mug_shelf').tau_s
    assert model.tau('mug', 'mug_travel').tau_s < 2 * 3600.0


def test_a_class_prior_overrides_the_mobility_prior() -> None:
    model = StalenessModel(StalenessParams(class_prior_tau_s={'keys': 3600.0}))
    assert model.class_tau('keys').tau_s == 3600.0


def test_priors_must_be_positive() -> None:
    with pytest.raises(InvalidInputError, match="prior tau for 'keys' must be positive"):
        StalenessParams(class_prior_tau_s={'keys': -1.0})
