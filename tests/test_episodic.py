"""Tests of the episodic memory: intervals, views, diffs, episodes."""

from __future__ import annotations

import pytest

from robot_memory.core import EpisodicMemory, FactKey, MemoryClock, SceneGraph
from robot_memory.core.events import (
    FactChanged,
    IdentityRepaired,
    IdentitySplit,
    ObjectCreated,
    event_from_record,
    event_to_record,
)
from robot_memory.exceptions import InvalidInputError, OutOfOrderError, UnknownNodeError
from tests.conftest import MONDAY_S

HOUR = 3600.0


def _mug(memory: EpisodicMemory, t: float = MONDAY_S + 9 * HOUR) -> None:
    memory.create_object('object:mug', t, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: ('on', 'object:table'), FactKey.STATE: ''}, (1,), color='red')


def test_a_moved_object_closes_its_old_interval() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    t_move = MONDAY_S + 12 * HOUR
    assert memory.set_fact('object:mug', t_move, FactKey.POSITION, (6.0, 2.0, 0.8), (7,))
    intervals = memory.history('object:mug').facts[FactKey.POSITION]
    assert [(iv.t_from, iv.t_to) for iv in intervals] == [
        (MONDAY_S + 9 * HOUR, t_move), (t_move, None)]
    assert intervals[1].obs_ids == (7,)


def test_setting_the_same_value_logs_nothing() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.drain()
    assert not memory.set_fact('object:mug', MONDAY_S + 10 * HOUR, FactKey.ROOM, 'room:kitchen')
    assert memory.drain() == []


def test_at_shows_the_world_as_last_known_then() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.set_fact('object:mug', MONDAY_S + 12 * HOUR, FactKey.ROOM, 'room:study')
    assert memory.at(MONDAY_S + 10 * HOUR).get_object('object:mug').room_id == 'room:kitchen'
    assert memory.at(MONDAY_S + 13 * HOUR).get_object('object:mug').room_id == 'room:study'
    assert len(memory.at(MONDAY_S)) == 0


def test_a_lost_object_is_missing_with_its_last_known_place() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.seen('object:mug', MONDAY_S + 10 * HOUR, (2,))
    memory.lose('object:mug', MONDAY_S + 20 * HOUR, (3,))
    view = memory.at(MONDAY_S + 21 * HOUR)
    assert not view.has_object('object:mug')
    missing = view.missing['object:mug']
    assert missing.room_id == 'room:kitchen'
    assert missing.last_seen_s == MONDAY_S + 10 * HOUR
    assert memory.lose('object:mug', MONDAY_S + 22 * HOUR) is False


def test_sightings_are_logged_once_per_resolution() -> None:
    memory = EpisodicMemory(seen_resolution_s=30.0)
    _mug(memory)
    logged = [memory.seen('object:mug', MONDAY_S + 9 * HOUR + k, (k,)) for k in range(1, 91)]
    assert sum(logged) == 3
    assert memory.current('object:mug').last_seen_s == MONDAY_S + 9 * HOUR + 90


def test_a_change_before_the_current_value_is_out_of_order() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.set_fact('object:mug', MONDAY_S + 12 * HOUR, FactKey.STATE, 'on')
    with pytest.raises(OutOfOrderError, match='before its current value was set'):
        memory.set_fact('object:mug', MONDAY_S + 10 * HOUR, FactKey.STATE, 'off')
    with pytest.raises(OutOfOrderError, match='is before its creation'):
        memory.set_fact('object:mug', MONDAY_S, FactKey.STATE, 'off')


def test_a_rejected_event_changes_nothing() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    before = memory.to_dict()
    with pytest.raises(InvalidInputError, match="object 'object:mug' already exists"):
        memory.apply(ObjectCreated(MONDAY_S, 'object:mug', 'mug'))
    with pytest.raises(UnknownNodeError, match="no object 'object:cat' in memory"):
        memory.apply(FactChanged(MONDAY_S, 'object:cat', FactKey.STATE, 'on'))
    assert memory.to_dict() == before


def test_diff_lists_added_removed_moved_and_state_changed() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.create_object('object:lamp', MONDAY_S + 9 * HOUR, 'lamp', {
        FactKey.POSITION: (3.0, 3.0, 0.5), FactKey.ROOM: 'room:kitchen',
        FactKey.STATE: 'off'})
    memory.create_object('object:keys', MONDAY_S + 9 * HOUR, 'keys', {
        FactKey.POSITION: (0.5, 0.5, 0.8), FactKey.ROOM: 'room:kitchen'})
    t1, t2 = MONDAY_S + 10 * HOUR, MONDAY_S + 30 * HOUR
    memory.set_fact('object:mug', MONDAY_S + 20 * HOUR, FactKey.POSITION, (6.0, 1.0, 0.8))
    memory.set_fact('object:lamp', MONDAY_S + 20 * HOUR, FactKey.STATE, 'on')
    memory.lose('object:keys', MONDAY_S + 20 * HOUR)
    memory.create_object('object:box', MONDAY_S + 20 * HOUR, 'box', {
        FactKey.POSITION: (1.0, 3.0, 0.0)})
    diff = memory.diff(t1, t2)
    assert diff.summary() == {'added': ['object:box'], 'removed': ['object:keys'],
                              'moved': ['object:mug'], 'state_changed': ['object:lamp']}
    assert diff.apply(memory.at(t1).facts()) == memory.at(t2).facts()
    assert memory.diff(t2, t2).is_empty()


def test_instances_split_sessions_and_label_them() -> None:
    memory = EpisodicMemory(MemoryClock('UTC'), session_gap_s=1800.0)
    _mug(memory, MONDAY_S + 9 * HOUR)
    memory.seen('object:mug', MONDAY_S + 9.5 * HOUR)
    memory.seen('object:mug', MONDAY_S + 19 * HOUR)
    memory.seen('object:mug', MONDAY_S + 24 * HOUR + 8 * HOUR)
    labels = [e.label for e in memory.instances()]
    assert labels == ['Monday morning', 'Monday evening', 'Tuesday morning']


def test_merging_folds_a_duplicate_into_the_kept_object() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.create_object('object:mug_dup', MONDAY_S + 9 * HOUR, 'mug', {
        FactKey.POSITION: (1.05, 1.0, 0.8)})
    t_merge = MONDAY_S + 11 * HOUR
    memory.merge('object:mug', 'object:mug_dup', t_merge)
    assert memory.resolve('object:mug_dup') == 'object:mug'
    assert memory.at(t_merge - 1).has_object('object:mug_dup')
    assert not memory.at(t_merge).has_object('object:mug_dup')
    assert memory.num_objects() == 1
    with pytest.raises(InvalidInputError, match="was merged into 'object:mug'"):
        memory.seen('object:mug_dup', t_merge + 60)


def test_a_repaired_identity_rewrites_the_past_from_the_newcomers_first_sighting() -> None:
    """The mug left the kitchen unseen; a mug found in the study the next day was taken for
    a new one; once the kitchen spot is seen empty, memory learns the study mug was this one:
    from the study mug's first sighting on, the mug's history is the study mug's."""
    memory = EpisodicMemory()
    _mug(memory)
    memory.seen('object:mug', MONDAY_S + 10 * HOUR, (2,))
    t_found = MONDAY_S + 33 * HOUR
    memory.create_object('object:study_mug', t_found, 'mug', {
        FactKey.POSITION: (6.0, 2.0, 0.8), FactKey.ROOM: 'room:study',
        FactKey.SUPPORT: ('on', 'object:desk'), FactKey.STATE: ''}, (5,), color='red',
                         discovered=True)
    memory.seen('object:study_mug', t_found + HOUR, (6,))
    t_empty = MONDAY_S + 34 * HOUR
    memory.lose('object:mug', t_empty, (7,))
    log = memory.drain()
    memory.repair_identity('object:mug', 'object:study_mug', t_empty + 60)
    [event] = memory.drain()
    assert isinstance(event, IdentityRepaired) and event.since_s == t_found
    assert event_from_record(event_to_record(event)) == event
    positions = memory.history('object:mug').facts[FactKey.POSITION]
    assert [(iv.t_from, iv.t_to, iv.value) for iv in positions] == [
        (MONDAY_S + 9 * HOUR, t_found, (1.0, 1.0, 0.8)), (t_found, None, (6.0, 2.0, 0.8))]
    assert positions[1].obs_ids == (5, 6)
    assert memory.resolve('object:study_mug') == 'object:mug'
    assert memory.history('object:study_mug').facts[FactKey.POSITION] == ()
    # at any time, one mug: in the kitchen before it was found in the study, there after
    assert memory.at(t_found - 1).get_object('object:mug').room_id == 'room:kitchen'
    later = memory.at(t_found + 2 * HOUR)
    assert later.get_object('object:mug').room_id == 'room:study'
    assert not later.has_object('object:study_mug') and memory.num_objects() == 1
    # a replay of the log (as the store does on load) gives the same memory
    again = EpisodicMemory()
    for e in [*log, event]:
        again.apply(event_from_record(event_to_record(e)))
    assert again.history('object:mug') == memory.history('object:mug')


def test_a_repair_that_would_start_before_the_object_existed_is_refused() -> None:
    memory = EpisodicMemory()
    memory.create_object('object:early', MONDAY_S, 'mug', {FactKey.POSITION: (0.0, 0.0, 0.8)})
    _mug(memory)
    with pytest.raises(OutOfOrderError, match='outside'):
        memory.apply(IdentityRepaired(MONDAY_S + 10 * HOUR, 'object:mug', 'object:early',
                                      MONDAY_S))
    assert memory.resolve('object:early') == 'object:early'


def test_a_split_undoes_a_wrong_guess_and_gives_the_other_object_its_own_history() -> None:
    """Memory guessed that the mug it had in the kitchen was the one found in the study; the
    kitchen mug is then seen at home. What memory had of it since the guess was another
    mug's: that becomes an object of its own, and the kitchen mug never left."""
    memory = EpisodicMemory()
    _mug(memory)
    t_guess = MONDAY_S + 33 * HOUR
    memory.set_fact('object:mug', t_guess, FactKey.POSITION, (6.0, 2.0, 0.8), (5,))
    memory.set_fact('object:mug', t_guess, FactKey.ROOM, 'room:study', (5,))
    memory.seen('object:mug', t_guess + HOUR, (6,))
    log = memory.drain()
    t_home = MONDAY_S + 57 * HOUR
    memory.split_identity('object:mug', 'object:study_mug', t_guess, t_home)
    [event] = memory.drain()
    assert isinstance(event, IdentitySplit)
    assert event_from_record(event_to_record(event)) == event
    mug = memory.history('object:mug').facts
    assert [(iv.t_from, iv.t_to, iv.value) for iv in mug[FactKey.POSITION]] == [
        (MONDAY_S + 9 * HOUR, None, (1.0, 1.0, 0.8))]
    study = memory.history('object:study_mug')
    assert study.created_s == t_guess and memory.is_discovery('object:study_mug')
    assert [(iv.t_from, iv.value) for iv in study.facts[FactKey.POSITION]] == [
        (t_guess, (6.0, 2.0, 0.8))]
    assert study.facts[FactKey.ROOM][0].value == 'room:study'
    # the state it had all along held for both (the other mug was seen with it)
    assert study.facts[FactKey.STATE][0].t_from == t_guess
    assert memory.history('object:mug').facts[FactKey.STATE][-1].t_to is None
    view = memory.at(t_guess + 2 * HOUR)
    assert view.get_object('object:mug').room_id == 'room:kitchen'
    assert view.get_object('object:study_mug').room_id == 'room:study'
    assert memory.diff(MONDAY_S + 10 * HOUR, t_home).summary()['moved'] == []
    again = EpisodicMemory()
    for e in [*log, event]:
        again.apply(event_from_record(event_to_record(e)))
    assert again.history('object:study_mug') == study
    with pytest.raises(InvalidInputError, match='needs a new object id'):
        memory.split_identity('object:mug', 'object:study_mug', t_guess, t_home)


def test_scene_graph_at_a_time_holds_objects_and_support(two_room_graph: SceneGraph) -> None:
    memory = EpisodicMemory()
    memory.set_layout(two_room_graph, MONDAY_S)
    memory.create_object('object:table', MONDAY_S + HOUR, 'table', {
        FactKey.POSITION: (1.0, 1.0, 0.4), FactKey.ROOM: 'room:kitchen'}, mobility='furniture')
    _mug(memory)
    graph = memory.at(MONDAY_S + 10 * HOUR).scene_graph()
    assert graph.objects_in('room:kitchen') == ['object:mug', 'object:table']
    assert graph.successors('object:mug', 'supported_by') == ['object:table']
    assert memory.layout_at(MONDAY_S).places == ['place:kitchen/0', 'place:study/0']


def test_staleness_belief_decays_with_time_since_seen() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    fresh = memory.p_still_there('object:mug', MONDAY_S + 9 * HOUR)
    later = memory.p_still_there('object:mug', MONDAY_S + 57 * HOUR)
    assert fresh == 1.0
    assert later == pytest.approx(0.3679, abs=1e-3)  # two days at the 2-day prior


def test_to_dict_round_trip_gives_an_equal_memory() -> None:
    memory = EpisodicMemory()
    _mug(memory)
    memory.set_fact('object:mug', MONDAY_S + 12 * HOUR, FactKey.POSITION, (6.0, 2.0, 0.8))
    copy = EpisodicMemory()
    copy.load_dict(memory.to_dict())
    assert copy == memory
    with pytest.raises(InvalidInputError, match='malformed memory snapshot'):
        copy.load_dict({'objects': 3})
