"""Tests of the multi-day activity model and the ground-truth log."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.activity import DEFAULT_HABITS, ActivityConfig, ActivityModel
from robot_memory.sim.clock import HOUR_S, SIM_EPOCH_S, day_of, hour_of, sim_time
from robot_memory.sim.truth import TruthLog
from robot_memory.sim.world import World

WORLDS = Path(__file__).resolve().parents[1] / 'sim' / 'worlds'


@pytest.fixture(scope='module')
def week() -> ActivityModel:
    model = ActivityModel(World.generate(4, 'apartment'), seed=4)
    model.advance_to(sim_time(7))
    return model


@pytest.fixture(scope='module')
def long_run() -> ActivityModel:
    # A spec with a study, so every default habit has somewhere to go.
    model = ActivityModel(World.named(str(WORLDS / 'apartment.yaml'), 0), seed=0)
    model.advance_to(sim_time(60))
    return model


def test_simulation_starts_on_a_monday_at_midnight_utc():
    import datetime as dt

    start = dt.datetime.fromtimestamp(SIM_EPOCH_S, tz=dt.timezone.utc)
    assert (start.weekday(), start.hour, start.minute) == (0, 0, 0)
    assert day_of(sim_time(3, 9.5)) == 3 and hour_of(sim_time(3, 9.5)) == pytest.approx(9.5)


def test_intervals_of_one_object_never_overlap(week):
    for obj_id in week.truth.object_ids:
        intervals = week.truth.intervals(obj_id)
        for a, b in itertools.pairwise(intervals):
            assert a.t_from < a.t_to <= b.t_from
        assert all(iv.t_from < iv.t_to for iv in intervals)


def test_no_two_objects_share_a_slot_at_any_time(week):
    for hour in range(0, 7 * 24, 5):
        facts = week.truth.at(SIM_EPOCH_S + hour * HOUR_S + 1.0)
        positions = [f.position_m for f in facts.values() if f.mobility != 'furniture']
        assert len(set(positions)) == len(positions)


def test_truth_at_matches_the_live_state_at_the_end(week):
    facts = week.truth.at(week.now_s)
    live = {i for i, o in week.state.objects.items()}
    assert {i for i, f in facts.items() if f.mobility != 'furniture'} == live
    for obj_id, placement in week.state.placements.items():
        assert facts[obj_id].support == placement.support_id
        assert facts[obj_id].state == placement.state


def test_a_week_has_moves_toggles_habits_deliveries_and_removals(week):
    kinds = {e.kind for e in week.events}
    assert {'move', 'toggle', 'habit'} <= kinds
    long = ActivityModel(World.generate(4, 'apartment'),
                         ActivityConfig(deliveries_per_day=3.0, removals_per_day=3.0), seed=4)
    long.advance_to(sim_time(3))
    kinds = {e.kind for e in long.events}
    assert {'deliver', 'remove'} <= kinds
    removed = [e.obj_id for e in long.events if e.kind == 'remove']
    assert all(not math.isinf(long.truth.intervals(i)[-1].t_to) for i in removed)


def test_history_does_not_depend_on_how_finely_the_clock_is_stepped():
    world = World.generate(9, 'apartment')
    coarse = ActivityModel(world, seed=9)
    coarse.advance_to(sim_time(2))
    fine = ActivityModel(world, seed=9)
    for minute in range(0, 2 * 24 * 60, 17):
        fine.advance_to(sim_time(0) + minute * 60.0)
    fine.advance_to(sim_time(2))
    assert coarse.truth.hash() == fine.truth.hash()


@pytest.mark.parametrize('habit', DEFAULT_HABITS, ids=lambda h: h.name)
def test_habits_fire_at_their_configured_rate(long_run, habit):
    eligible = [d for d in range(60) if d % 7 in habit.weekdays]
    fired = {day_of(e.stamp_s) for e in long_run.events if e.cause == f'habit:{habit.name}'}
    assert abs(len(fired) / len(eligible) - habit.rate) < 0.12
    for e in long_run.events:
        if e.cause == f'habit:{habit.name}':
            assert habit.start_h <= hour_of(e.stamp_s) < habit.end_h


def test_backpack_is_on_the_coat_hook_after_the_afternoon_habit(long_run):
    days = [day_of(e.stamp_s) for e in long_run.events
            if e.cause == 'habit:backpack_to_coat_hook']
    on_hook = [long_run.truth.interval_at('obj:backpack_0', sim_time(d, 18.0)).fact.support
               .startswith('furn:coat_hook') for d in days]
    assert sum(on_hook) / len(on_hook) > 0.8


def test_mug_is_in_the_study_after_the_morning_habit(long_run):
    days = [day_of(e.stamp_s) for e in long_run.events if e.cause == 'habit:mug_to_study']
    in_study = [long_run.truth.interval_at('obj:mug_0', sim_time(d, 10.0)).fact.room == 'study'
                for d in days]
    assert sum(in_study) / len(in_study) > 0.8


def test_truth_json_round_trip_keeps_the_hash(week, tmp_path):
    import json

    path = week.truth.save_json(tmp_path / 'truth.json')
    data = json.loads(path.read_text())
    assert data['hash'] == week.truth.hash()
    assert TruthLog.from_dict(data).hash() == week.truth.hash()


def test_activity_config_rejects_unknown_keys():
    with pytest.raises(InvalidInputError, match=r"unknown activity keys \['moves'\]"):
        ActivityConfig.from_dict({'moves': 3})


def test_activity_cannot_go_back_in_time(week):
    with pytest.raises(InvalidInputError, match='activity cannot go back in time'):
        week.advance_to(SIM_EPOCH_S)
