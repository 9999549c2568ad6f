"""Tests of consolidation: observations → buffer → confirmed memory events."""

from __future__ import annotations

from robot_memory.core import (
    BufferParams,
    Consolidator,
    EpisodicMemory,
    ObjectObservation,
    ObservedFacts,
    ShortTermBuffer,
)
from tests.conftest import MONDAY_S

KITCHEN = ObservedFacts('room:kitchen')


def _obs(i: int, t: float, pos: tuple[float, float, float], state: str = '',
         label: str = 'mug') -> ObjectObservation:
    return ObjectObservation(i, t, label, pos, attributes={'color': 'red', 'state': state})


def _consolidator(k: int = 3) -> Consolidator:
    return Consolidator(EpisodicMemory(),
                        ShortTermBuffer(BufferParams(confirm_k=k, confirm_tau_s=60.0)))


def test_a_new_object_enters_memory_once_confirmed() -> None:
    c = _consolidator()
    for i in range(2):
        assert c.observe('object:1', _obs(i, MONDAY_S + i, (1, 1, 1)), KITCHEN) == []
    assert not c.memory.has_object('object:1')
    confirmed = c.observe('object:1', _obs(2, MONDAY_S + 2, (1.02, 1, 1)), KITCHEN)
    assert [x.kind for x in confirmed] == ['appeared']
    state = c.memory.current('object:1')
    assert state.room_id == 'room:kitchen' and state.color == 'red'
    assert state.since_s == MONDAY_S


def test_a_single_spurious_detection_never_reaches_memory() -> None:
    c = _consolidator()
    c.observe('object:ghost', _obs(0, MONDAY_S, (1, 1, 1)), KITCHEN)
    c.expire(MONDAY_S + 1000)
    assert not c.memory.has_object('object:ghost')
    assert c.buffer.stats.dropped_transient == 1


def test_a_move_is_dated_from_its_first_observation() -> None:
    c = _consolidator()
    for i in range(3):
        c.observe('object:1', _obs(i, MONDAY_S + i, (1, 1, 1)), KITCHEN)
    t = MONDAY_S + 3600
    for i in range(3):
        c.observe('object:1', _obs(10 + i, t + i, (5, 1, 1)), ObservedFacts('room:study'))
    assert c.memory.at(t).get_object('object:1').room_id == 'room:study'
    assert c.memory.at(t - 1).get_object('object:1').room_id == 'room:kitchen'
    assert c.stats.moved == 1


def test_jitter_within_tolerance_is_not_a_move() -> None:
    c = _consolidator()
    for i in range(20):
        c.observe('object:1', _obs(i, MONDAY_S + 40 * i, (1 + 0.05 * (i % 3), 1, 1)), KITCHEN)
    assert c.stats.moved == 0
    assert len(c.memory.history('object:1').facts['position']) == 1


def test_a_brief_misplacement_is_dropped_when_contradicted() -> None:
    c = _consolidator()
    for i in range(3):
        c.observe('object:1', _obs(i, MONDAY_S + i, (1, 1, 1)), KITCHEN)
    c.observe('object:1', _obs(5, MONDAY_S + 5, (3, 3, 1)), KITCHEN)
    c.observe('object:1', _obs(6, MONDAY_S + 6, (1, 1, 1)), KITCHEN)
    assert c.stats.moved == 0
    assert c.buffer.stats.dropped_transient == 1


def test_state_changes_are_consolidated() -> None:
    c = _consolidator()
    for i in range(3):
        c.observe('object:lamp', _obs(i, MONDAY_S + i, (1, 1, 1), 'off', 'lamp'), KITCHEN)
    for i in range(3):
        c.observe('object:lamp', _obs(9 + i, MONDAY_S + 99 + i, (1, 1, 1), 'on', 'lamp'),
                  KITCHEN)
    assert c.memory.current('object:lamp').state == 'on'
    assert c.memory.diff(MONDAY_S + 50, MONDAY_S + 200).summary()['state_changed'] == [
        'object:lamp']


def test_negative_evidence_loses_the_object_once_confirmed() -> None:
    c = _consolidator()
    for i in range(3):
        c.observe('object:1', _obs(i, MONDAY_S + i, (1, 1, 1)), KITCHEN)
    t = MONDAY_S + 3600
    assert c.observe_absent('object:1', t, 100) == []
    assert c.observe_absent('object:1', t + 1, 101) == []
    assert [x.kind for x in c.observe_absent('object:1', t + 2, 102)] == ['removed']
    assert not c.memory.current('object:1').present
    assert c.memory.at(t - 1).has_object('object:1')


def test_seeing_the_object_cancels_pending_negative_evidence() -> None:
    c = _consolidator()
    for i in range(3):
        c.observe('object:1', _obs(i, MONDAY_S + i, (1, 1, 1)), KITCHEN)
    c.observe_absent('object:1', MONDAY_S + 100, 100)
    c.observe('object:1', _obs(4, MONDAY_S + 101, (1, 1, 1)), KITCHEN)
    for k in range(2):
        c.observe_absent('object:1', MONDAY_S + 102 + k, 101 + k)
    assert c.memory.current('object:1').present


def test_an_out_of_order_observation_is_counted_not_raised() -> None:
    c = _consolidator(k=1)
    c.observe('object:1', _obs(0, MONDAY_S + 100, (1, 1, 1), 'off'), KITCHEN)
    c.observe('object:1', _obs(1, MONDAY_S + 200, (1, 1, 1), 'on'), KITCHEN)
    c.observe('object:1', _obs(2, MONDAY_S + 150, (1, 1, 1), 'off'), KITCHEN)
    assert c.stats.rejected == 1
    assert c.memory.current('object:1').state == 'on'
