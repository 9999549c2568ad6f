"""`robot-memory export`: the scene graph at a time as plain JSON and as a Spark-DSG file."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from robot_memory.cli import main
from robot_memory.core import EpisodicMemory, MemoryStore, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.export import export_memory


@pytest.fixture(scope='module')
def patrolled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EpisodicMemory]:
    """A memory file of one simulated patrol of the default apartment (160×120 camera)."""
    from robot_memory.service import MemoryService, MemoryServiceParams
    from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig

    db = tmp_path_factory.mktemp('export') / 'memory.db'
    sim = BuiltinSim(SimConfig(camera=CameraConfig(width=160, height=120)))
    service = MemoryService(MemoryServiceParams(db_path=str(db), use_embeddings=False),
                            layout=sim.scene_graph())
    for frame in sim.patrol_day(0):
        service.ingest(frame)
    service.close()
    with MemoryStore(db, read_only=True) as store:
        return db, store.load()


def test_a_spark_dsg_export_loads_in_spark_dsg_with_every_layer_and_parent(
        patrolled: tuple[Path, EpisodicMemory], tmp_path: Path) -> None:
    dsg = pytest.importorskip('spark_dsg', reason='spark-dsg is not installed')
    _, memory = patrolled
    graph = memory.at(memory.now_s).scene_graph()
    assert len(graph.objects) > 10
    out = tmp_path / 'graph.json'
    summary = export_memory(memory, out, 'spark-dsg')
    loaded = dsg.DynamicSceneGraph.load(str(out))
    counts = {name: loaded.get_layer(name).num_nodes()
              for name in ('BUILDINGS', 'ROOMS', 'PLACES', 'OBJECTS')}
    assert counts == {'BUILDINGS': 1, 'ROOMS': len(graph.rooms), 'PLACES': len(graph.places),
                      'OBJECTS': len(graph.objects)}
    assert summary['objects'] == len(graph.objects)
    meta = loaded.metadata.get()['robot_memory']
    assert meta['at_s'] == memory.now_s and meta['frame_id'] == 'map'
    names = meta['node_ids']
    labelspace = loaded.get_labelspace('OBJECTS')
    assert loaded.get_labelspace(2, 0).get_category(0) == labelspace.get_category(0)
    for node in loaded.get_layer('OBJECTS').nodes:
        object_id = node.attributes.name
        truth = graph.get_object(object_id)
        assert tuple(node.attributes.position) == pytest.approx(truth.position_m)
        assert labelspace.get_category(node.attributes.semantic_label) == truth.label
        parent = names[str(dsg.NodeSymbol(node.get_parent()))]
        # Under the nearest place of its own room.
        assert parent in graph.places_in(graph.room_of(object_id))
    for node in loaded.get_layer('PLACES').nodes:
        assert names[str(dsg.NodeSymbol(node.get_parent()))] == \
            graph.get_place(node.attributes.name).room_id
    for node in loaded.get_layer('ROOMS').nodes:
        assert names[str(dsg.NodeSymbol(node.get_parent()))] == 'building'
        box = node.attributes.bounding_box
        polygon = graph.get_room(node.attributes.name).polygon_m
        assert box.dimensions[0] == pytest.approx(max(p[0] for p in polygon)
                                                  - min(p[0] for p in polygon), abs=1e-5)
    # Room adjacency and place traversability are kept as intralayer edges.
    intralayer = sum(1 for e in loaded.edges if
                     dsg.NodeSymbol(e.source).category == dsg.NodeSymbol(e.target).category)
    pairs = {frozenset((a, b)) for kind in ('adjacent', 'traversable')
             for a, b, _ in graph.edges(kind)}  # stored both ways; Spark-DSG's are undirected
    assert intralayer == len(pairs) > 0


def test_the_json_export_is_the_world_at_that_time(
        patrolled: tuple[Path, EpisodicMemory], tmp_path: Path) -> None:
    _, memory = patrolled
    start = memory.instances()[0].start_s
    early = start + 600.0
    out = tmp_path / 'early.json'
    export_memory(memory, out, 'json', at_s=early)
    data = json.loads(out.read_text())
    assert data['format'] == 'robot_memory.scene_graph' and data['version'] == 1
    assert data['at_s'] == early and data['frame_id'] == 'map'
    view = memory.at(early)
    assert SceneGraph.from_dict(data['graph']).to_dict() == view.scene_graph().to_dict()
    assert set(data['objects']) == set(view.objects)
    assert len(data['objects']) < len(memory.at(memory.now_s).objects)  # not yet all seen
    some = next(iter(data['objects'].values()))
    assert {'label', 'color', 'state', 'position_m', 'room', 'last_seen_s',
            'p_still_there'} <= some.keys()


def test_export_from_the_command_line(patrolled: tuple[Path, EpisodicMemory], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db, memory = patrolled
    out = tmp_path / 'g.json'
    main(shlex.split(f'export --db {db} --out {out} --format json --json'))
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary['objects'] == len(memory.at(memory.now_s).objects) and out.is_file()
    for line, message in [(f'export --db {db} --out {out} --format dot', "unknown export "
                           "format 'dot'; valid: json, spark-dsg"),
                          (f'export --db {db} --out {tmp_path} --format json',
                           f'cannot write {tmp_path}')]:
        with pytest.raises(SystemExit) as failed:
            main(shlex.split(line))
        assert failed.value.code == 2
        assert message in capsys.readouterr().err


def test_spark_dsg_missing_is_one_clear_error(patrolled: tuple[Path, EpisodicMemory],
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _, memory = patrolled
    monkeypatch.setitem(sys.modules, 'spark_dsg', None)  # an install without it
    with pytest.raises(InvalidInputError, match=r'needs the spark_dsg package \(pip install'):
        export_memory(memory, tmp_path / 'g.json', 'spark-dsg')
