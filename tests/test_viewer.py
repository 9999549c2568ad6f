"""The viewer's data, page and server, without a browser (test_viewer_browser.py drives it)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from robot_memory.cli import main
from robot_memory.core import EpisodicMemory, FactKey, MemoryStore, SceneGraph
from robot_memory.eval.report import write_report
from robot_memory.exceptions import InvalidInputError
from robot_memory.viewer import decode_stops, render_page, stop_index, view_data, write_view
from robot_memory.viewer.server import MemoryServer, RateLimiter, validate_ask
from tests.conftest import MONDAY_S

H = 3600.0
HOSTILE = '</script><img src=x onerror=alert(1)>'


def _week(graph: SceneGraph) -> EpisodicMemory:
    """Three sessions: a mug moves, a lamp is switched, keys go missing, a duplicate merges."""
    memory = EpisodicMemory()
    t = MONDAY_S + 9 * H
    memory.set_layout(graph, t)
    memory.create_object('object:mug', t, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.9), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: ('on', 'object:table')}, color='red')
    memory.create_object('object:table', t, 'table', {
        FactKey.POSITION: (1.5, 1.5, 0.0), FactKey.ROOM: 'room:kitchen'}, mobility='furniture')
    memory.create_object('object:lamp', t + 60, 'lamp', {
        FactKey.POSITION: (6.0, 1.0, 1.0), FactKey.ROOM: 'room:study', FactKey.STATE: 'off'})
    memory.create_object('object:keys', t + 120, 'keys', {
        FactKey.POSITION: (2.0, 3.0, 0.8), FactKey.ROOM: 'room:kitchen'})
    memory.create_object('object:bad', t + 130, HOSTILE, {
        FactKey.POSITION: (3.0, 3.0, 0.8), FactKey.ROOM: 'room:kitchen'})
    for place, dt in (('place:kitchen/0', 0), ('place:study/0', 60), ('place:kitchen/0', 130)):
        memory.observe_place(place, t + dt)
    t = MONDAY_S + 19 * H  # Monday evening
    memory.seen('object:mug', t)
    memory.set_fact('object:lamp', t + 30, FactKey.STATE, 'on')
    memory.lose('object:keys', t + 40)
    memory.create_object('object:mug2', t + 50, 'mug', {
        FactKey.POSITION: (5.0, 3.0, 0.9), FactKey.ROOM: 'room:study'})
    memory.observe_place('place:study/0', t + 30)
    t = MONDAY_S + 24 * H + 9 * H  # Tuesday morning: the mug went to the study
    memory.set_fact('object:mug', t, FactKey.POSITION, (6.5, 2.0, 0.9))
    memory.set_fact('object:mug', t, FactKey.ROOM, 'room:study')
    memory.set_fact('object:mug', t, FactKey.SUPPORT, None)
    memory.merge('object:mug', 'object:mug2', t + 10)
    memory.observe_place('place:study/0', t + 10)
    return memory


@pytest.fixture
def week(two_room_graph: SceneGraph) -> EpisodicMemory:
    return _week(two_room_graph)


@pytest.fixture
def week_db(week: EpisodicMemory, tmp_path: Path) -> Path:
    with MemoryStore(tmp_path / 'week.db') as store:
        store.sync(week)
    return tmp_path / 'week.db'


def _facts(state: list[Any]) -> tuple[Any, ...]:
    return state[0], tuple(state[1:4]), state[4], state[5], state[6]


def test_every_stop_shows_exactly_the_memory_at_that_time(week: EpisodicMemory) -> None:
    data = view_data(week, step_s=600.0)
    rooms = [r['id'] for r in data['rooms']]
    stops = decode_stops(data)
    assert len(stops) == len(data['stops']) > 3
    for stop, states in zip(data['stops'], stops, strict=True):
        view = week.at(stop['t'])
        expected = {}
        for present, objects in ((1, view.objects), (0, view.missing)):
            for object_id, s in objects.items():
                expected[object_id] = (present, tuple(round(v, 3) for v in s.position_m),
                                       rooms.index(s.room_id),
                                       list(s.support) if s.support else None, s.state)
        assert {k: _facts(v) for k, v in states.items()} == expected, stop['label']


def test_stops_cover_each_episode_from_start_to_end(week: EpisodicMemory) -> None:
    data = view_data(week)
    episodes = week.instances()
    assert [e['label'] for e in data['episodes']] == \
        ['Monday morning', 'Monday evening', 'Tuesday morning']
    for e in episodes:
        times = [s['t'] for s in data['stops'] if s['episode'] == e.index]
        assert times[0] == e.start_s and times[-1] == e.end_s
    assert data['stops'][stop_index(data, episodes[1].end_s)]['t'] == episodes[1].end_s
    assert data['stops'][0]['label'] == 'Monday morning 09:00'


def test_a_long_memory_is_cut_into_at_most_max_stops(week: EpisodicMemory) -> None:
    assert len(view_data(week, step_s=1.0, max_stops=20)['stops']) <= 20
    with pytest.raises(InvalidInputError, match='step_s must be > 0'):
        view_data(week, step_s=0.0)


def test_the_merged_duplicate_leaves_the_map_when_it_merges(week: EpisodicMemory) -> None:
    data = view_data(week)
    last, before = decode_stops(data)[-1], decode_stops(data)[-3]
    assert 'object:mug2' in before and 'object:mug2' not in last
    assert last['object:keys'][0] == 0  # missing: lost, drawn where it was last seen


def test_the_path_of_an_episode_follows_the_places_looked_from(
        week: EpisodicMemory) -> None:
    data = view_data(week)
    names = [[data['places'][i]['id'] for i in route] for route in data['paths']]
    assert names[0] == ['place:kitchen/0', 'place:study/0', 'place:kitchen/0']
    assert names[1] == ['place:study/0']


def test_the_page_is_self_contained_and_its_policy_admits_only_its_script(
        week: EpisodicMemory) -> None:
    page = render_page(view_data(week))
    script = re.search(r'<script>(.*)</script>', page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert 'connect-src' not in page  # a file page talks to nobody
    assert not re.search(r'(src|href)=["\']?(https?:)?//', page)
    # A stored label cannot close the data element: it stays inert JSON text.
    assert HOSTILE not in page
    data = re.search(r'id="memory-data">(.*?)</script>', page, re.S).group(1)
    assert HOSTILE in [o['label'] for o in json.loads(data)['objects']]
    assert "connect-src 'self'" in render_page(view_data(week), live=True)


def test_view_command_writes_the_page(week_db: Path, tmp_path: Path) -> None:
    main(['view', '--db', str(week_db), '--out', str(tmp_path / 'm.html')])
    assert 'id="memory-data"' in (tmp_path / 'm.html').read_text()


def test_the_legend_draws_every_kind_of_mark_the_map_draws(week: EpisodicMemory) -> None:
    page = render_page(view_data(week))
    legend = re.search(r'<ul id="legend".*?</ul>', page, re.S).group(0)
    assets = Path(__file__).resolve().parents[1] / 'robot_memory' / 'viewer' / 'assets'
    script = (assets / 'viewer.js').read_text()
    # Every class the script gives a map element, and the object states it toggles.
    drawn = set(re.findall(r"el\('\w+', \{ class: '([\w-]+)'", script))
    drawn |= {f'change-{kind}' for kind in ('moved', 'removed', 'added', 'state_changed')}
    drawn |= {'missing', 'furniture', 'evidence'}
    drawn -= {'room', 'room-name', 'obj', 'mark'}  # the rooms and their names explain themselves
    assert drawn >= {'path', 'place', 'edge', 'seen-at', 'plan', 'plan-stop'}
    shown = set(re.findall(r'class="([\w\s-]+)"', legend))
    assert drawn <= {c for classes in shown for c in classes.split()}, drawn
    for words in ('missing', 'furniture', 'green ring: appeared', 'purple ring: state changed',
                  'orange arrow: moved', 'red cross: gone', "red line: the robot's path",
                  'pink'):
        assert words in ' '.join(legend.split()), words


def test_room_names_are_drawn_above_the_objects() -> None:
    assets = Path(__file__).resolve().parents[1] / 'robot_memory' / 'viewer' / 'assets'
    page = (assets / 'page.html').read_text()
    top = re.search(r'<svg id="map" .*?</svg>', page, re.S).group(0)
    assert top.index('id="objects"') < top.index('id="labels"')
    assert "class: 'room-name', x: cx, y: -cy }, $('labels')" in (assets / 'viewer.js').read_text()


def test_the_report_links_the_viewer(week: EpisodicMemory, tmp_path: Path) -> None:
    viewer = write_view(week, tmp_path / 'memory.html')
    report = write_report(tmp_path, week, week.instances()[0].end_s, week.now_s, [],
                          viewer=viewer)
    assert '<a id="viewer-link" href="memory.html">' in report.read_text()


@pytest.mark.parametrize(('body', 'error'), [
    (b'not json', 'the request: not valid JSON (Expecting value: line 1 column 1 (char 0))'),
    (b'\xff\xfe', 'the request: not UTF-8 text (invalid start byte)'),
    (b'[' * 4000, 'the request: nested 4000 levels deep (at most 2)'),
    (b'[1]', 'the request must be a JSON object'),
    (b'{"question": "x", "path": "/etc/passwd"}', "unknown field 'path'; valid: question, at_s"),
    (b'{"question": ""}', '"question" must be a non-empty string'),
    (b'{"question": 3}', '"question" must be a non-empty string'),
    (json.dumps({'question': 'x' * 301}).encode(), '"question" is longer than 300 characters'),
    (b'{"question": "where\\u0000"}', '"question" holds control characters'),
    (b'{"question": "x", "at_s": "monday"}',
     '"at_s" must be a number of seconds or null, got \'monday\''),
    (b'{"question": "x", "at_s": 1e999}', 'the request: the number 1e999 is out of range'),
    (b'{"question": "x", "at_s": true}', '"at_s" must be a number of seconds or null, got True'),
    (b'{"question": "x", "at_s": 1e18}', '"at_s": 1e+18 is out of range [0, 3.25037e+10]'),
])
def test_ask_requests_are_validated(body: bytes, error: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(error)):
        validate_ask(body)


def test_a_valid_ask_request_gives_its_question_and_time() -> None:
    assert validate_ask(b'{"question": " where is my mug? ", "at_s": 12}') == \
        ('where is my mug?', 12.0)


def test_the_rate_limiter_allows_a_burst_then_the_sustained_rate() -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=3)
    assert [limiter.allow('a', now=0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow('b', now=0.0)  # per client
    assert not limiter.allow('a', now=0.2) and limiter.allow('a', now=0.6)


def _http(url: str, body: bytes | None = None, method: str | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Any]:
    # The page's own script posts JSON; a cross-site form could not (see server.py).
    kind = {'Content-Type': 'application/json'} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={**kind, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            status, head, raw = reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        status, head, raw = exc.code, dict(exc.headers), exc.read()
    text = raw.decode()
    return status, head, json.loads(text) if head.get('Content-Type', '').startswith(
        'application/json') else text


@pytest.fixture
def server(week_db: Path) -> Any:
    with MemoryServer(week_db, port=0, embeddings=False, asks_per_s=1.0, ask_burst=3,
                      now_s=MONDAY_S + 3 * 24 * H).start() as srv:
        yield srv


def test_the_server_serves_the_page_and_answers_with_a_plan(server: MemoryServer) -> None:
    status, head, page = _http(server.url)
    assert status == 200 and 'data-live="1"' in page
    assert "script-src 'sha256-" in head['Content-Security-Policy']
    status, _, reply = _http(server.url + 'api/ask', b'{"question": "Where is the mug?"}')
    assert status == 200, reply
    assert reply['answer'].startswith('The mug') and 'study' in reply['answer']
    assert reply['evidence'][0]['object_id'] == 'object:mug'
    assert reply['evidence'][0]['room_name'] == 'study'
    # Two days after the last look the answer is worth checking: the planner's looks come too.
    assert reply['needs_verification'] and reply['plan']
    assert all(set(step) == {'place_id', 'xy'} for step in reply['plan'])
    status, _, reply = _http(server.url + 'api/ask', b'{"question": "qwerty zxcv?"}')
    assert status == 200 and reply['ok'] is False
    assert reply['answer'].startswith('I could not understand the question')


def test_the_server_refuses_bad_requests_with_clear_errors(server: MemoryServer) -> None:
    ask = server.url + 'api/ask'
    assert _http(server.url + 'etc/passwd')[0] == 404
    assert _http(ask, b'{"question": "x"}', method='PUT')[0] == 405
    status, _, reply = _http(ask, b'x' * 5000)
    assert status == 413 and 'at most 4096 bytes, got 5000' in reply['error']
    status, _, reply = _http(ask, b'{"question": 1}')
    assert status == 400 and reply['error'] == '"question" must be a non-empty string'
    statuses = [_http(ask, b'{"question": "where is the lamp?"}')[0] for _ in range(3)]
    assert statuses[-1] == 429  # the burst of 3 was spent (one bad request above took one)


def test_the_server_follows_a_writer_beside_it(server: MemoryServer, week_db: Path) -> None:
    _, _, before = _http(server.url + 'api/version')
    with MemoryStore(week_db) as writer:
        memory = writer.load()
        memory.create_object('object:book', memory.now_s + 60, 'book', {
            FactKey.POSITION: (6.0, 3.0, 0.5), FactKey.ROOM: 'room:study'})
        writer.sync(memory)
    _, _, after = _http(server.url + 'api/version')
    assert after['seq'] > before['seq']
    _, _, data = _http(server.url + 'api/view')
    assert 'object:book' in decode_stops(data)[-1]


def test_serve_refuses_a_bad_port(week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(['serve', '--db', str(week_db), '--port', '70000'])
    assert exited.value.code == 2
    assert 'port must be in 0..65535, got 70000' in capsys.readouterr().err
