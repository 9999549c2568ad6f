"""Tests of the query engine, retrieval and the value-of-information planner."""

from __future__ import annotations

import pytest

from robot_memory.core import EpisodicMemory, FactKey, PlaceAttributes, SceneGraph
from robot_memory.core.planner import PlannerParams, VoIPlanner, evsi
from robot_memory.core.queries import (
    Category,
    Changes,
    Count,
    IsAt,
    LastSeen,
    StateOf,
    Target,
    TimeRange,
    Usual,
    WhenAppeared,
    WhereIs,
    WhereWas,
    query_from_dict,
    query_to_dict,
)
from robot_memory.core.query_engine import Hypothesis, QueryEngine
from robot_memory.core.retrieval import GraphIndex
from tests.conftest import MONDAY_S

HOUR, DAY = 3600.0, 86400.0


@pytest.fixture
def memory(two_room_graph: SceneGraph) -> EpisodicMemory:
    """A backpack that goes to the study every evening and a lamp that gets switched on."""
    two_room_graph.add_place('place:study/1', PlaceAttributes('room:study', (7.0, 3.0, 0.0)))
    two_room_graph.connect_places('place:study/0', 'place:study/1')
    memory = EpisodicMemory()
    memory.set_layout(two_room_graph, MONDAY_S)
    memory.create_object('object:hook', MONDAY_S + 8 * HOUR, 'coat_hook', {
        FactKey.POSITION: (0.2, 3.0, 1.5), FactKey.ROOM: 'room:kitchen'}, mobility='furniture')
    memory.create_object('object:bag', MONDAY_S + 8 * HOUR, 'backpack', {
        FactKey.POSITION: (0.3, 3.0, 1.2), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: ('on', 'object:hook')}, (1,), color='red')
    memory.create_object('object:lamp', MONDAY_S + 8 * HOUR, 'lamp', {
        FactKey.POSITION: (6.0, 1.0, 0.5), FactKey.ROOM: 'room:study', FactKey.STATE: 'off'})
    for day in range(3):
        evening = MONDAY_S + day * DAY + 19 * HOUR
        memory.set_fact('object:bag', evening, FactKey.POSITION, (7.0, 2.0, 0.3))
        memory.set_fact('object:bag', evening, FactKey.ROOM, 'room:study')
        memory.set_fact('object:bag', evening, FactKey.SUPPORT, None)
        morning = MONDAY_S + (day + 1) * DAY + 8 * HOUR
        memory.set_fact('object:bag', morning, FactKey.POSITION, (0.3, 3.0, 1.2))
        memory.set_fact('object:bag', morning, FactKey.ROOM, 'room:kitchen')
        memory.set_fact('object:bag', morning, FactKey.SUPPORT, ('on', 'object:hook'))
    memory.set_fact('object:lamp', MONDAY_S + DAY + 20 * HOUR, FactKey.STATE, 'on')
    return memory


def test_queries_round_trip_through_dicts() -> None:
    q = WhereWas(Target('backpack', 'red'), TimeRange(1.0, 2.0, 'last night'))
    assert query_from_dict(query_to_dict(q)) == q


def test_where_is_gives_room_support_and_a_fresh_confidence(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    now = MONDAY_S + 3 * DAY + 8 * HOUR
    answer = engine.answer(WhereIs(Target('backpack', 'red')), now)
    assert answer.value['room'] == 'room:kitchen'
    assert answer.value['support_label'] == 'coat_hook'
    assert answer.text.startswith('The red backpack is on the coat_hook in the kitchen')
    assert answer.confidence == pytest.approx(1.0)
    later = engine.answer(WhereIs(Target('backpack')), now + 2 * DAY)
    assert later.confidence < 0.5 and later.needs_verification


def test_where_was_answers_about_a_past_evening(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    tuesday_evening = TimeRange(MONDAY_S + DAY + 17 * HOUR, MONDAY_S + DAY + 22 * HOUR,
                                'Tuesday evening')
    answer = engine.answer(WhereWas(Target('backpack'), tuesday_evening),
                           MONDAY_S + 3 * DAY + 9 * HOUR)
    assert answer.value['room'] == 'room:study'
    assert answer.text == 'Tuesday evening, the backpack was in the study.'


def test_an_unknown_target_is_said_not_guessed(memory: EpisodicMemory) -> None:
    answer = QueryEngine(memory).answer(WhereIs(Target('umbrella')))
    assert answer.value is None and answer.confidence == 0.0
    assert answer.text == 'I have no memory of an umbrella.'


def test_a_label_matcher_gives_open_vocabulary_targets(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory, label_matcher=lambda q, labels: 'backpack' if q == 'rucksack'
                         else None)
    assert engine.answer(WhereIs(Target('rucksack'))).value['object_id'] == 'object:bag'


def test_counts_states_and_first_sightings(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    now = MONDAY_S + 3 * DAY + 9 * HOUR
    assert engine.answer(Count(Target('lamp'), 'room:study'), now).value['count'] == 1
    assert engine.answer(Count(Target('lamp'), 'room:kitchen'), now).value['count'] == 0
    on = engine.answer(StateOf(Target('lamp'), state='on'), now)
    assert on.value == {'object_id': 'object:lamp', 'state': 'on', 'yes': True}
    monday = TimeRange(MONDAY_S, MONDAY_S + DAY, 'on Monday')
    assert engine.answer(StateOf(Target('lamp'), monday), now).value['state'] == 'off'
    first = engine.answer(WhenAppeared(Target('backpack')), now)
    assert first.value['day'] == 'Monday'
    last = engine.answer(LastSeen(Target('lamp')), now)
    assert last.value['room'] == 'room:study'


def test_is_at_answers_yes_or_no_about_a_room_or_a_support(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    thursday = MONDAY_S + 3 * DAY + 8 * HOUR
    kitchen = engine.answer(IsAt(Target('backpack'), 'room:kitchen'), thursday)
    assert kitchen.value['yes'] is True and kitchen.confidence == pytest.approx(1.0)
    assert kitchen.text.startswith('Yes, the backpack is in the kitchen')
    hook = engine.answer(IsAt(Target('backpack'), support='coat_hook', relation='on'),
                         thursday)
    assert hook.value['yes'] is True
    assert engine.answer(IsAt(Target('backpack'), support='coat_hook', relation='in'),
                         thursday).value['yes'] is False
    study = engine.answer(IsAt(Target('backpack'), 'room:study'), thursday)
    assert study.value['yes'] is False
    assert study.text.startswith('No, I last saw the backpack on the coat_hook in the kitchen')
    tuesday_evening = MONDAY_S + DAY + 20 * HOUR
    assert engine.answer(IsAt(Target('backpack'), support='coat_hook', relation='near'),
                         tuesday_evening).value['yes'] is False
    assert engine.answer(IsAt(Target('lamp'), support='coat_hook', relation='near'),
                         thursday).value['yes'] is False
    # A lamp with no support made out, standing by a desk, counts as on it.
    memory.create_object('object:desk', MONDAY_S + 8 * HOUR, 'desk', {
        FactKey.POSITION: (6.3, 1.2, 0.4), FactKey.ROOM: 'room:study'}, mobility='furniture')
    assert engine.answer(IsAt(Target('lamp'), support='desk', relation='on'),
                         MONDAY_S + DAY + 21 * HOUR).value['yes'] is True
    # Past: where it was on Tuesday evening (put there at 19:00, not seen again that night).
    evening = TimeRange(MONDAY_S + DAY + 19.5 * HOUR, MONDAY_S + DAY + 21 * HOUR, 'then')
    past = engine.answer(IsAt(Target('backpack'), 'room:study', at=evening), thursday)
    assert past.value['yes'] is True and 0.5 < past.confidence < 1.0
    assert past.text.startswith('Yes, the backpack was in the study')
    assert not past.needs_verification


def test_is_at_goes_stale_and_asks_to_be_checked(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    later = MONDAY_S + 5 * DAY + 8 * HOUR
    query = IsAt(Target('backpack'), 'room:kitchen', category=Category.PAST_PRESENT)
    answer = engine.answer(query, later)
    assert answer.value['p_yes'] < 0.5 and answer.value['yes'] is False
    assert answer.text.startswith('Probably not any more: I saw the backpack in the kitchen')
    assert answer.needs_verification
    belief = engine.belief(query, later)
    assert [h.value for h in belief] == ['no', 'yes']
    assert belief[1].prob == pytest.approx(answer.value['p_yes'])
    assert all(h.places == frozenset({'place:kitchen/0'}) for h in belief)
    assert query_from_dict(query_to_dict(query)) == query


def test_is_it_still_there_asks_about_where_it_was_last_seen(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    tuesday_evening = MONDAY_S + DAY + 20 * HOUR
    there = engine.answer(IsAt(Target('backpack'), category=Category.PAST_PRESENT),
                          tuesday_evening)
    assert there.value['yes'] is True and there.value['room'] == 'room:study'
    assert there.text.startswith('Yes, the backpack is still in the study')
    belief = engine.belief(IsAt(Target('backpack')), tuesday_evening + 3 * DAY)
    assert {h.value for h in belief} == {'yes', 'no'}
    assert all(h.places == frozenset({'place:kitchen/0'}) for h in belief)  # back Thursday


def test_is_at_refuses_what_it_cannot_check(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    piano = engine.answer(IsAt(Target('backpack'), support='piano', relation='near'))
    assert piano.value is None and piano.text == ('I have no memory of a piano to check '
                                                  'against.')


def test_changes_since_a_time_in_one_room(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    since = TimeRange(MONDAY_S + 12 * HOUR, None, 'since Monday noon')
    answer = engine.answer(Changes(since, room='room:study'), MONDAY_S + 3 * DAY + 9 * HOUR)
    assert [c['object_id'] for c in answer.value['state_changed']] == ['object:lamp']
    assert answer.value['changed'] is True


def test_usual_location_follows_the_habit(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    now = MONDAY_S + 3 * DAY + 9 * HOUR
    evening = engine.answer(Usual(Target('backpack'), 'evening'), now)
    morning = engine.answer(Usual(Target('backpack'), 'morning'), now)
    assert evening.value['room'] == 'room:study'
    assert morning.value['room'] == 'room:kitchen'
    assert morning.value['support_label'] == 'coat_hook'


def test_usual_state_follows_the_evenings(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    memory.set_fact('object:lamp', MONDAY_S + 2 * DAY + 8 * HOUR, FactKey.STATE, 'off')
    for day in (2, 3, 4, 5):  # on from 19:00 to 07:00, Wednesday to Saturday
        memory.set_fact('object:lamp', MONDAY_S + day * DAY + 19 * HOUR, FactKey.STATE, 'on')
        memory.set_fact('object:lamp', MONDAY_S + (day + 1) * DAY + 7 * HOUR, FactKey.STATE,
                        'off')
    now = MONDAY_S + 6 * DAY
    evening = engine.answer(Usual(Target('lamp'), 'evening', state='on'), now)
    assert evening.value['yes'] is True  # off on Monday and Tuesday at 19:30
    assert evening.value['frequency'] == pytest.approx(4 / 6)
    assert evening.text.startswith('Yes, the lamp is usually on in the evening')
    morning = engine.answer(Usual(Target('lamp'), 'morning', state='on'), now)
    assert morning.value['yes'] is False and morning.value['usual_state'] == 'off'
    assert morning.text.startswith('No, the lamp is usually off in the morning')


def test_personalized_pagerank_ranks_neighbours_first(two_room_graph: SceneGraph) -> None:
    index = GraphIndex(two_room_graph)
    ranked = index.rank({'room:kitchen': 1.0}, 'place:')
    assert ranked[0][0] == 'place:kitchen/0'
    assert sum(index.ppr({'room:kitchen': 1.0}).values()) == pytest.approx(1.0)


def test_evsi_is_zero_for_an_uninformative_place() -> None:
    belief = [Hypothesis('kitchen', 0.6, frozenset({'a'})),
              Hypothesis('study', 0.4, frozenset({'b'}))]
    assert evsi(belief, 'c', 0.9) == 0.0
    assert evsi(belief, 'b', 1.0) == pytest.approx(0.4)
    assert evsi(belief, 'a', 1.0) == pytest.approx(0.4)


def test_the_planner_looks_when_memory_is_stale_and_not_when_fresh(
        memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    planner = VoIPlanner(PlannerParams(cost_per_m=0.01))
    layout = memory.layout_at(MONDAY_S)
    fresh = planner.decide(engine.belief(WhereIs(Target('backpack')),
                                         MONDAY_S + 3 * DAY + 8 * HOUR), None, layout)
    assert fresh.place is None and fresh.reason == 'confident enough'
    stale = planner.decide(engine.belief(WhereIs(Target('backpack')),
                                         MONDAY_S + 6 * DAY), 'place:kitchen/0', layout)
    assert stale.place is not None and stale.net > 0


def test_an_expensive_look_is_not_taken(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    planner = VoIPlanner(PlannerParams(cost_per_m=10.0))
    decision = planner.decide(engine.belief(WhereIs(Target('backpack')), MONDAY_S + 6 * DAY),
                              'place:kitchen/0', memory.layout_at(MONDAY_S))
    assert decision.place in (None, 'place:kitchen/0')
    if decision.place is None:
        assert decision.reason == 'looking costs more than it is worth'


def test_past_questions_never_send_the_robot(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    monday = TimeRange(MONDAY_S, MONDAY_S + DAY, 'on Monday')
    assert engine.belief(WhereWas(Target('backpack'), monday)) == []


@pytest.mark.parametrize('cost_per_m', [0.0, 0.01])
def test_the_active_loop_finds_a_moved_object(memory: EpisodicMemory,
                                              cost_per_m: float) -> None:
    engine = QueryEngine(memory)
    clock = [MONDAY_S + 6 * DAY]

    def observe(place: str) -> float:
        clock[0] += 60.0
        if place.startswith('place:study'):
            memory.set_fact('object:bag', clock[0], FactKey.POSITION, (7.0, 2.0, 0.3))
            memory.set_fact('object:bag', clock[0], FactKey.ROOM, 'room:study')
        return 4.0

    planner = VoIPlanner(PlannerParams(cost_per_m=cost_per_m))
    result = planner.answer(engine, WhereIs(Target('backpack')), 'place:kitchen/0', observe,
                            lambda: clock[0])
    assert result.answer.value['room'] == 'room:study'
    assert result.decisions[-1].place is None
    if cost_per_m > 0:
        assert result.path[0] == 'place:kitchen/0'  # the free look first
    else:
        assert result.path[-1].startswith('place:study')
        assert result.answer.confidence > 0.95


def test_a_room_is_as_fresh_as_its_least_recently_seen_place(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    now = MONDAY_S + 6 * DAY
    memory.observe_place('place:study/0', now - 60)
    one_corner = engine.answer(Count(Target('mug'), 'room:study'), now).confidence
    memory.observe_place('place:study/1', now - 30)
    both = engine.answer(Count(Target('mug'), 'room:study'), now).confidence
    assert one_corner < 0.8 < both
    assert memory.place_observed_s('place:study/1') == now - 30
    assert memory.place_observed_s('place:kitchen/0') is None
