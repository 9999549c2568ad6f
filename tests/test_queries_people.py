"""The query types people ask beyond "where is it": contents, attributes, existence,
durations, open-vocabulary retrieval, and several-day / same-spot questions."""

from __future__ import annotations

import pytest

from robot_memory.core import EpisodicMemory, FactKey, SceneGraph
from robot_memory.core.queries import (
    AttributeOf,
    Category,
    Changes,
    Contents,
    Count,
    Duration,
    Exists,
    Retrieve,
    Target,
    TimeRange,
    WhereWas,
    query_from_dict,
    query_to_dict,
)
from robot_memory.core.query_engine import QueryEngine
from robot_memory.core.taxonomy import Taxonomy, default_taxonomy
from robot_memory.exceptions import InvalidInputError
from tests.conftest import MONDAY_S

HOUR, DAY = 3600.0, 86400.0
NOW = MONDAY_S + 2 * DAY + 18 * HOUR  # Wednesday 18:00
MONDAY_EVENING = TimeRange(MONDAY_S + 17 * HOUR, MONDAY_S + 22 * HOUR, 'Monday evening')


@pytest.fixture
def memory(two_room_graph: SceneGraph) -> EpisodicMemory:
    """A kitchen with a counter and a fridge, a study with a desk; an apple and a bottle on
    the counter on Monday, the bottle carried to the desk on Tuesday, a laptop opened."""
    memory = EpisodicMemory()
    memory.set_layout(two_room_graph, MONDAY_S)
    furniture = {'object:counter': ('counter', (1.0, 3.5, 0.45), 'room:kitchen', 'white'),
                 'object:fridge': ('fridge', (3.5, 3.5, 0.9), 'room:kitchen', 'grey'),
                 'object:desk': ('desk', (7.0, 3.5, 0.37), 'room:study', 'brown')}
    for object_id, (label, position, room, color) in furniture.items():
        memory.create_object(object_id, MONDAY_S + 8 * HOUR, label, {
            FactKey.POSITION: position, FactKey.ROOM: room}, color=color, mobility='furniture')
    memory.create_object('object:apple', MONDAY_S + 8 * HOUR, 'apple', {
        FactKey.POSITION: (1.0, 3.5, 0.95), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: ('on', 'object:counter')}, (1,), color='red')
    memory.create_object('object:bottle', MONDAY_S + 9 * HOUR, 'bottle', {
        FactKey.POSITION: (1.3, 3.5, 1.0), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: ('on', 'object:counter')}, (2,), color='green')
    memory.create_object('object:laptop', MONDAY_S + 9 * HOUR, 'laptop', {
        FactKey.POSITION: (7.2, 3.5, 0.77), FactKey.ROOM: 'room:study',
        FactKey.SUPPORT: ('on', 'object:desk'), FactKey.STATE: 'closed'}, (3,), color='grey')
    tuesday = MONDAY_S + DAY
    memory.set_fact('object:bottle', tuesday + 10 * HOUR, FactKey.POSITION, (6.8, 3.5, 0.85))
    memory.set_fact('object:bottle', tuesday + 10 * HOUR, FactKey.ROOM, 'room:study')
    memory.set_fact('object:bottle', tuesday + 10 * HOUR, FactKey.SUPPORT, ('on', 'object:desk'))
    memory.set_fact('object:laptop', tuesday + 12 * HOUR, FactKey.STATE, 'open')
    for object_id in ('object:counter', 'object:fridge', 'object:desk', 'object:apple',
                      'object:bottle', 'object:laptop'):
        memory.seen(object_id, NOW - HOUR)
    memory.observe_place('place:kitchen/0', NOW - HOUR)
    memory.observe_place('place:study/0', NOW - HOUR)
    return memory


def test_new_queries_round_trip_through_dicts() -> None:
    for query in (Contents('coffee_table', 'room:kitchen', MONDAY_EVENING, 'drink', 'on'),
                  AttributeOf(Target('sofa'), 'color'),
                  Exists(Target('apple'), 'room:kitchen', category=Category.PAST_PRESENT),
                  Duration(Target('box'), 'room:hallway'),
                  Retrieve('where can I make coffee?'),
                  WhereWas(Target('book'), MONDAY_EVENING, Category.MULTI_PAST,
                           (TimeRange(1.0, 2.0, 'Tuesday'),))):
        assert query_from_dict(query_to_dict(query)) == query


def test_contents_lists_what_is_on_a_piece_of_furniture_now_and_then(
        memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    now = engine.answer(Contents('counter'), NOW)
    assert [o['label'] for o in now.value['objects']] == ['apple']
    assert now.text == 'On the counter: a red apple.'
    assert now.evidence[0].object_id == 'object:apple'
    monday = engine.answer(Contents('counter', at=MONDAY_EVENING, category=Category.PAST), NOW)
    assert sorted(o['label'] for o in monday.value['objects']) == ['apple', 'bottle']
    assert monday.text.startswith('Monday evening, on the counter: ')
    # "What drink is on the desk?": a category narrows the answer.
    drink = engine.answer(Contents('desk', kind='drink'), NOW)
    assert [o['label'] for o in drink.value['objects']] == ['bottle']
    fruit_on_desk = engine.answer(Contents('desk', kind='fruit'), NOW)
    assert fruit_on_desk.value['count'] == 0
    assert fruit_on_desk.text == "On the desk: nothing of the kind 'fruit'."


def test_contents_of_a_closed_container_is_not_an_observation(memory: EpisodicMemory) -> None:
    answer = QueryEngine(memory).answer(Contents('fridge'), NOW)
    assert answer.value['count'] == 0
    assert 'cannot see inside the fridge' in answer.text
    assert answer.confidence <= 0.3 and answer.needs_verification


def test_contents_of_unknown_furniture_says_so(memory: EpisodicMemory) -> None:
    answer = QueryEngine(memory).answer(Contents('coffee_table'), NOW)
    assert answer.value is None and answer.text == 'I have no memory of a coffee table.'
    assert answer.needs_verification


def test_attributes_colour_and_state_now_and_then(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    colour = engine.answer(AttributeOf(Target('desk'), 'color'), NOW)
    assert colour.value['value'] == 'brown' and colour.text == 'The desk is brown.'
    assert colour.confidence == 1.0 and not colour.needs_verification
    state = engine.answer(AttributeOf(Target('laptop'), 'state'), NOW)
    assert state.value['state'] == 'open' and state.text == 'The laptop is open.'
    monday = engine.answer(AttributeOf(Target('laptop'), 'state', MONDAY_EVENING,
                                       Category.PAST), NOW)
    assert monday.value['value'] == 'closed' and monday.text == 'The laptop was closed.'
    material = engine.answer(AttributeOf(Target('desk'), 'material'), NOW)
    assert material.confidence == 0.0 and 'material' in material.text


def test_exists_says_where_and_a_category_matches_its_classes(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    apple = engine.answer(Exists(Target('apple'), 'room:kitchen'), NOW)
    assert apple.value['yes'] and apple.text.startswith('Yes: a red apple on the counter in '
                                                        'the kitchen')
    fruit = engine.answer(Exists(Target('fruit')), NOW)
    assert fruit.value['yes'] and fruit.value['objects'][0]['label'] == 'apple'
    bottle_then = engine.answer(Exists(Target('bottle'), 'room:kitchen', MONDAY_EVENING,
                                       Category.PAST), NOW)
    assert bottle_then.value['yes']
    bottle_now = engine.answer(Exists(Target('bottle'), 'room:kitchen'), NOW)
    assert not bottle_now.value['yes']


def test_an_object_never_seen_is_a_no_with_where_the_robot_looked(
        memory: EpisodicMemory) -> None:
    answer = QueryEngine(memory).answer(Exists(Target('toolbox'), category=Category.PAST), NOW)
    assert answer.value['yes'] is False and answer.value['count'] == 0
    assert [r['room_name'] for r in answer.value['looked_in']] == ['kitchen', 'study']
    assert answer.text == ('No, I have not seen a toolbox (I looked in: kitchen, study).')


def test_duration_in_a_room_on_a_support_and_in_a_state(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    apple = engine.answer(Duration(Target('apple'), 'counter'), NOW)
    assert apple.value['holds'] and apple.value['since_s'] == MONDAY_S + 8 * HOUR
    assert apple.value['duration_s'] == pytest.approx(2 * DAY + 10 * HOUR)
    assert apple.text.startswith('The apple has been on the counter for 2 days 10 hours')
    laptop = engine.answer(Duration(Target('laptop'), state='open'), NOW)
    assert laptop.value['since_s'] == MONDAY_S + DAY + 12 * HOUR
    bottle = engine.answer(Duration(Target('bottle'), 'room:kitchen'), NOW)
    assert not bottle.value['holds']
    assert bottle.value['duration_s'] == pytest.approx(DAY + HOUR)
    assert bottle.text.startswith('The bottle is not in the kitchen now; it was there for '
                                  '1 day 1 hour')


def test_count_on_a_piece_of_furniture(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    assert engine.answer(Count(Target('bottle'), support='desk'), NOW).value['count'] == 1
    assert engine.answer(Count(Target('bottle'), support='counter'), NOW).value['count'] == 0


def test_same_spot_as_a_past_day_and_several_days(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    monday_end = TimeRange(MONDAY_S + DAY - 1e-3, None, 'on Monday')
    moved = engine.answer(Changes(monday_end, target=Target('bottle')), NOW)
    assert moved.value['changed']
    assert moved.text == ('The bottle has moved since Monday: it was in the kitchen, and '
                          'is now in the study.')
    stayed = engine.answer(Changes(monday_end, target=Target('apple')), NOW)
    assert not stayed.value['changed']
    tuesday = TimeRange(MONDAY_S + DAY + 17 * HOUR, MONDAY_S + DAY + 22 * HOUR,
                        'Tuesday evening')
    both = engine.answer(WhereWas(Target('bottle'), MONDAY_EVENING, Category.MULTI_PAST,
                                  (tuesday,)), NOW)
    assert [row['location']['room'] for row in both.value['times']] == \
        ['room:kitchen', 'room:study']


def test_belief_over_new_queries_points_at_places(memory: EpisodicMemory) -> None:
    engine = QueryEngine(memory)
    stale = NOW + 3 * DAY
    contents = engine.belief(Contents('counter'), stale)
    # "Changed" stands for several answers (one item more or fewer), not one.
    assert {h.value for h in contents} == {'as remembered', 'changed:0', 'changed:1'}
    assert sum(h.prob for h in contents) == pytest.approx(1.0)
    assert all(h.places == {'place:kitchen/0'} for h in contents)
    exists = engine.belief(Exists(Target('apple'), 'room:kitchen'), stale)
    assert {h.value for h in exists} == {'yes', 'no'}
    assert engine.belief(Exists(Target('apple'), category=Category.PAST), stale) == []


def test_retrieval_with_the_embedding_model_finds_objects_and_places(
        memory: EpisodicMemory) -> None:
    from robot_memory.language.embeddings import default_embedder

    embedder = default_embedder()

    def scorer(text: str, descriptions: list[str]) -> list[float]:
        vectors = embedder.embed([text, *descriptions])
        return list(vectors[1:] @ vectors[0])

    engine = QueryEngine(memory, text_scorer=scorer)
    work = engine.answer(Retrieve('Where could I sit and work on a computer?'), NOW)
    layers = {r['layer'] for r in work.value['results']}
    assert 'room' in layers  # places, not only objects
    names = [r.get('label') or r['room_name'] for r in work.value['results']]
    assert names[0] in ('study', 'desk', 'laptop')
    assert work.confidence <= engine.params.retrieval_max_confidence
    assert work.text.endswith('(This is a search of what I remember, not a fact I observed.)')
    snack = engine.answer(Retrieve('Is there something to eat?'), NOW)
    assert snack.value['results'][0].get('label') in ('apple', 'counter', 'fridge', '')


def test_retrieval_without_an_embedder_falls_back_to_words(memory: EpisodicMemory) -> None:
    answer = QueryEngine(memory).answer(Retrieve('where is a desk to work at'), NOW)
    assert answer.value['results'][0]['label'] == 'desk'


def test_taxonomy_expands_nested_categories_and_rejects_bad_files(tmp_path) -> None:
    taxonomy = Taxonomy({'fruit': ['apple', 'pear'], 'food': ['fruit', 'bread'],
                         'loop': ['loop', 'food']})
    assert taxonomy.members('food') == {'apple', 'pear', 'bread', 'food'}
    assert taxonomy.members('loop') >= {'apple', 'bread'}
    assert taxonomy.members('mug') == {'mug'}
    assert taxonomy.categories_of('apple') == ('food', 'fruit', 'loop')
    assert 'apple' in default_taxonomy().members('food')
    bad = tmp_path / 'taxonomy.yaml'
    bad.write_text('- just\n- a list\n')
    with pytest.raises(InvalidInputError, match='must be a mapping'):
        Taxonomy.from_yaml(bad)
    bad.write_text('fruit: apple\n')
    with pytest.raises(InvalidInputError, match='must list class names'):
        Taxonomy.from_yaml(bad)
    bad.write_text('fruit: [apple\n')
    with pytest.raises(InvalidInputError, match='cannot read the taxonomy'):
        Taxonomy.from_yaml(bad)


def test_duration_in_a_room_spans_a_move_within_it_made_out_of_sight(
        memory: EpisodicMemory) -> None:
    # The apple's spot on the counter is seen empty on Tuesday morning; in the afternoon the
    # apple is found on the fridge, in the same kitchen. Nothing says it ever left the room:
    # it has been in the kitchen since Monday. On the fridge, only since Tuesday afternoon.
    tuesday = MONDAY_S + DAY
    assert memory.lose('object:apple', tuesday + 9 * HOUR)
    found = tuesday + 15 * HOUR
    memory.set_fact('object:apple', found, FactKey.POSITION, (3.5, 3.5, 1.85))
    memory.set_fact('object:apple', found, FactKey.ROOM, 'room:kitchen')
    memory.set_fact('object:apple', found, FactKey.SUPPORT, ('on', 'object:fridge'))
    memory.seen('object:apple', found)
    engine = QueryEngine(memory)
    room = engine.answer(Duration(Target('apple'), 'room:kitchen'), NOW)
    assert room.value['holds'] and room.value['since_s'] == MONDAY_S + 8 * HOUR
    fridge = engine.answer(Duration(Target('apple'), 'fridge'), NOW)
    assert fridge.value['holds'] and fridge.value['since_s'] == found
    # Seen in another room between the two stretches: the room's stretch starts again.
    memory.lose('object:apple', tuesday + 16 * HOUR)
    memory.set_fact('object:apple', tuesday + 17 * HOUR, FactKey.ROOM, 'room:study')
    memory.set_fact('object:apple', tuesday + 17 * HOUR, FactKey.POSITION, (7.0, 3.5, 0.8))
    back = tuesday + 20 * HOUR
    memory.set_fact('object:apple', back, FactKey.ROOM, 'room:kitchen')
    memory.set_fact('object:apple', back, FactKey.POSITION, (1.0, 3.5, 0.95))
    memory.seen('object:apple', back)
    again = QueryEngine(memory).answer(Duration(Target('apple'), 'room:kitchen'), NOW)
    assert again.value['since_s'] == back
