"""The viewer in a real browser: headless Chromium (Debian's) driven by Selenium.

The page of the demo's memory (the built-in apartment, patrolled through perception) is
loaded from a file, the slider is moved with the keyboard, and what the page draws is compared
with `memory.at(t)` and `memory.diff`; then the same memory is served and a question asked in
the ask box. Screenshots land in the test's output folder (`viewer.png`, `ask.png`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from robot_memory.cli import main
from robot_memory.core import EpisodicMemory, MemoryStore
from robot_memory.service import MemoryService, MemoryServiceParams
from robot_memory.viewer import view_data, write_view
from robot_memory.viewer.bench import demo_memory
from robot_memory.viewer.browser import BrowserUnavailableError, find_browser, headless_chromium
from robot_memory.viewer.server import MemoryServer

try:
    find_browser()
    import selenium  # noqa: F401
except (BrowserUnavailableError, ImportError) as exc:
    pytest.skip(f'no headless browser: {exc}', allow_module_level=True)

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.timeout(240)
DAY_S = 86400.0


@pytest.fixture(scope='module')
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two days of the demo's apartment, in a memory file and its page."""
    tmp = tmp_path_factory.mktemp('viewer')
    memory = demo_memory(days=2)
    with MemoryStore(tmp / 'memory.db') as store:
        store.sync(memory)
    with MemoryStore(tmp / 'memory.db', read_only=True) as store:
        memory = store.load()
    return {'memory': memory, 'db': tmp / 'memory.db',
            'page': write_view(memory, tmp / 'memory.html', title='demo memory')}


@pytest.fixture(scope='module')
def browser() -> Any:
    with headless_chromium() as driver:
        yield driver


def _shown(driver: Any, kind: str) -> dict[str, tuple[float, float]]:
    """Object ids the map draws as `present` or `missing`, with their map positions."""
    out = {}
    for g in driver.find_elements(By.CSS_SELECTOR, f'#objects .obj.{kind}:not(.gone)'):
        x, y = map(float, re.match(r'translate\(([^,]+),([^)]+)\)',
                                   g.get_attribute('transform')).groups())
        out[g.get_attribute('data-id')] = (x, -y)
    return out


def _slide_to(driver: Any, slider: Any, stop: int) -> float:
    """Move the slider with the keyboard to `stop`; returns the time the page shows."""
    slider.send_keys(Keys.HOME)
    for _ in range(stop):
        slider.send_keys(Keys.ARROW_RIGHT)
    label = driver.find_element(By.ID, 'time-label')
    assert label.get_attribute('data-stop') == str(stop)
    return float(label.get_attribute('data-t'))


def _check_world(driver: Any, memory: EpisodicMemory, t: float) -> None:
    view = memory.at(t)
    present, missing = _shown(driver, 'present'), _shown(driver, 'missing')
    assert set(present) == set(view.objects)
    assert set(missing) == set(view.missing)
    for object_id, (x, y) in present.items():
        px, py, _ = view.objects[object_id].position_m
        assert abs(x - px) < 1e-3 and abs(y - py) < 1e-3, object_id


def test_the_page_shows_the_memory_at_the_slider_time(demo: dict[str, Any], browser: Any,
                                                       tmp_path: Path) -> None:
    memory: EpisodicMemory = demo['memory']
    browser.get(demo['page'].as_uri())
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute('data-ready') == '1')
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    data = view_data(memory)
    episodes = memory.instances()
    assert len(episodes) >= 2
    slider = browser.find_element(By.ID, 'time')
    first_end = max(k for k, s in enumerate(data['stops']) if s['episode'] == 0)
    t1 = _slide_to(browser, slider, first_end)
    assert t1 == episodes[0].end_s
    _check_world(browser, memory, t1)
    t2 = _slide_to(browser, slider, len(data['stops']) - 1)
    assert t2 == episodes[-1].end_s
    _check_world(browser, memory, t2)
    assert len(_shown(browser, 'present')) != len(memory.at(t1).objects) or t1 != t2
    # Changes between the first and last episodes: those of memory.diff, each drawn.
    items = browser.find_elements(By.CSS_SELECTOR, '#changes-list li[data-kind]')
    got = sorted((li.get_attribute('data-kind'), li.get_attribute('data-id')) for li in items)
    expected = sorted((kind, object_id) for kind, ids in memory.diff(t1, t2).summary().items()
                      for object_id in ids)
    assert got == expected and got
    drawn = browser.find_elements(By.CSS_SELECTOR, '#changes > *')
    assert len(drawn) == len(expected)
    counts = Counter(kind for kind, _ in expected)
    assert browser.find_element(By.ID, 'changes-summary').text.startswith(
        f'{counts["moved"]} moved, {counts["removed"]} removed')
    # The robot's route of the episode shown, and the scene graph tree opened on a room.
    assert browser.find_elements(By.CSS_SELECTOR, '#path polyline')
    # A room with objects; its places are built by the details' 'toggle' event, which the
    # browser dispatches as a task after the click returns, so the list is waited for.
    room = next(s for s in browser.find_elements(
        By.CSS_SELECTOR, '#tree details[data-key^="room:"] > summary')
        if '(0 objects)' not in s.text)
    key = room.find_element(By.XPATH, '..').get_attribute('data-key')
    room.click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f'#tree details[data-key="{key}"][open] li[data-id]'))
    # Hovering an object tells what memory knows of it.
    some = next(iter(_shown(browser, 'present')))
    ActionChains(browser).move_to_element(browser.find_element(
        By.CSS_SELECTOR, f'#objects .obj[data-id="{some}"]')).perform()
    tip = browser.find_element(By.ID, 'tip').text
    assert memory.label_of(some).replace('_', ' ') in tip and 'P(still there)' in tip
    assert 'last seen' in tip
    browser.save_screenshot(str(tmp_path / 'viewer.png'))
    assert (tmp_path / 'viewer.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_a_question_asked_in_the_served_page_shows_its_answer_and_evidence(
        demo: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    memory: EpisodicMemory = demo['memory']
    later = memory.now_s + 1.5 * DAY_S  # things have moved since: looking would pay
    view = memory.at(later)
    labels = Counter(s.label for s in view.objects.values() if s.mobility == 'movable')
    label = sorted(lab for lab, n in labels.items() if n == 1)[0]
    question = f'Where is the {label.replace("_", " ")}?'
    expected = MemoryService(MemoryServiceParams(use_embeddings=False),
                             memory=memory).ask(question, later)
    with MemoryServer(demo['db'], port=0, embeddings=False, now_s=later).start() as server:
        browser.get(server.url)
        WebDriverWait(browser, 20).until(
            lambda d: not d.find_element(By.ID, 'ask-panel').get_attribute('hidden'))
        browser.find_element(By.ID, 'question').send_keys(question + Keys.ENTER)
        WebDriverWait(browser, 60).until(
            lambda d: d.find_elements(By.ID, 'answer-text'))
        assert browser.find_element(By.ID, 'answer-text').text == expected.text
        assert f'confidence {expected.confidence:.2f}' in browser.find_element(
            By.ID, 'answer').text
        evidence = [li.get_attribute('data-id')
                    for li in browser.find_elements(By.CSS_SELECTOR, '#evidence li')]
        assert evidence == [e.object_id for e in expected.evidence] and evidence
        highlighted = {g.get_attribute('data-id') for g in browser.find_elements(
            By.CSS_SELECTOR, '#objects .obj.evidence')}
        assert highlighted == set(evidence) & set(memory.at(later).objects) | (
            set(evidence) & set(memory.at(later).missing))
        assert browser.find_elements(By.CSS_SELECTOR, '#seen circle')
        if expected.needs_verification:
            stops = browser.find_elements(By.CSS_SELECTOR, '#plan .plan-stop')
            assert stops and 'the planner would look from' in browser.find_element(
                By.ID, 'plan-text').text
        browser.save_screenshot(str(tmp_path / 'ask.png'))
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']


def test_bench_view_prints_page_size_load_and_slider_times(demo: dict[str, Any],
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    main(['bench', 'view', '--json', '--db', str(demo['db']), '--objects', '40',
          '--days', '2'])
    result = json.loads(capsys.readouterr().out)
    assert result['browser'].startswith('Chromium')
    demo_run, month = result['runs']
    assert demo_run['memory'] == 'demo' and month['memory'] == '2d_40obj'
    assert demo_run['objects'] == len(view_data(demo['memory'])['objects'])
    for run in result['runs']:
        assert run['page_bytes'] > 10_000 and run['stops'] >= run['episodes'] > 0
        assert 0 < run['load_ms'] < 10_000
        assert 0 < run['slider_step_ms_p50'] <= run['slider_step_ms_p95'] \
            <= run['slider_step_ms_max']
        assert run['slider_frame_ms_p50'] > 0 and run['slider_jump_ms_p95'] > 0
