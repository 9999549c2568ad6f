"""The memory as a service: frames in, questions in, answers and map data out.

This is everything `memory_node` does, without ROS: it owns the store file, the mapping
pipeline, the query engine and the question parser, and speaks plain dicts (the JSON of the
`memory/query` / `memory/answer` topics). `robot-memory ask` uses it too.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from numpy.typing import ArrayLike

from robot_memory.core.clock import MemoryClock
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.protocol import (
    AnswerReply,
    BeliefReply,
    ErrorReply,
    HypothesisDict,
    JsonValue,
    LayoutReply,
    MemoryReply,
    UnparsedReply,
    decode_request,
    parse_request,
)
from robot_memory.core.queries import Answer, query_to_dict
from robot_memory.core.query_engine import QueryEngine
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.snapshots import ChangeRecord, ObjectRecord, changes_between, objects_at
from robot_memory.core.store import MemoryStore
from robot_memory.core.types import Frame
from robot_memory.exceptions import (
    InvalidInputError,
    RobotMemoryError,
    StoreError,
    WorldMismatchError,
)
from robot_memory.perception.pipeline import FrameResult, MappingPipeline, PipelineParams

if TYPE_CHECKING:
    from robot_memory.language.parser import ParseResult, QuestionParser

__all__ = ['MemoryService', 'MemoryServiceParams', 'ObjectMarker', 'split_skips']

log = logging.getLogger(__name__)

OTHER_WORLD_CHOICES = ('refuse', 'continue', 'new')
SEGMENT_SKIP_PREFIX = 'segment_'  # how MappingPipeline names a skipped segment's reason


def split_skips(skips: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """The pipeline's skip counts as (whole frames by reason, segments by reason).

    `MappingPipeline.skips` counts both under one Counter, segments as `segment_<reason>`;
    reported under one key they read as skipped frames (`frames_skipped` once held thousands
    of `segment_few_points` for a run that skipped no frame).
    """
    frames = {k: n for k, n in skips.items() if not k.startswith(SEGMENT_SKIP_PREFIX)}
    segments = {k.removeprefix(SEGMENT_SKIP_PREFIX): n for k, n in skips.items()
                if k.startswith(SEGMENT_SKIP_PREFIX)}
    return frames, segments


def _move_aside(path: Path, world_id: str) -> Path:
    """Rename a closed memory file (and any WAL left) to one that says its world and when."""
    slug = ''.join(c if c.isalnum() or c in '-_' else '_' for c in world_id)[:40] or 'world'
    stamp = time.strftime('%Y%m%dT%H%M%S')
    target = path.with_name(f'{path.stem}.{slug}.{stamp}{path.suffix}')
    for suffix in ('-wal', '-shm', ''):
        source = Path(f'{path}{suffix}')
        if source.exists():
            source.rename(Path(f'{target}{suffix}'))
    return target


@dataclass(frozen=True, slots=True)
class MemoryServiceParams:
    """Where memory lives and how it is built and queried."""

    db_path: str = 'robot_memory.db'
    timezone: str = 'UTC'
    commit_interval_s: float = 1.0
    use_embeddings: bool = True
    pipeline: PipelineParams = field(default_factory=PipelineParams)
    # The world this memory is of ('' checks nothing): a memory file built in another world is
    # refused (`other_world` 'refuse'), used anyway ('continue'), or moved aside for a new
    # memory ('new').
    world_id: str = ''
    other_world: str = 'refuse'

    def __post_init__(self) -> None:
        if self.other_world not in OTHER_WORLD_CHOICES:
            raise InvalidInputError(f'other_world must be one of '
                                    f'{", ".join(OTHER_WORLD_CHOICES)}, got {self.other_world!r}')


@dataclass(frozen=True, slots=True)
class ObjectMarker:
    """What RViz shows of one object: where, what, how stale."""

    object_id: str
    label: str
    position_m: tuple[float, float, float]
    extent_m: tuple[float, float, float]
    room_id: str
    p_still_there: float
    support_id: str | None


class MemoryService:
    """Builds memory from frames and answers requests about it."""

    def __init__(self, params: MemoryServiceParams | None = None,
                 layout: SceneGraph | None = None, memory: EpisodicMemory | None = None) -> None:
        self.params = params or MemoryServiceParams()
        self.store: MemoryStore | None = None
        if memory is None:
            self.store = self._open_store()
            memory = self.store.load()
        self.memory = memory
        if layout is not None and layout.rooms != self.memory.layout_at(math.inf).rooms:
            self.memory.set_layout(layout, self.memory.now_s)
        self.pipeline = MappingPipeline(self.memory, layout, self.params.pipeline)
        self._parser: tuple[int, QuestionParser] | None = None
        self.engine = QueryEngine(self.memory, label_matcher=self._match_label,
                                  text_scorer=self._score_text)
        self.requests = 0
        self.request_errors = 0
        #: Why the store cannot write right now (disk full, read-only media); None when it can.
        self.store_error: str | None = None
        self.store_failures = 0

    def _open_store(self) -> MemoryStore:
        """The memory file, claimed for `world_id` as `other_world` says."""
        p = self.params

        def open_file() -> MemoryStore:
            return MemoryStore(p.db_path, clock=MemoryClock(p.timezone),
                               commit_interval_s=p.commit_interval_s)

        store = open_file()
        try:
            store.claim_world(p.world_id)
            return store
        except WorldMismatchError as exc:
            if p.other_world == 'continue':
                log.warning('%s; continuing in it as asked (other_world: continue)', exc)
                return store
            recorded = store.world_id
            store.close()
            if p.other_world == 'refuse':
                raise WorldMismatchError(
                    f'{exc}: give another memory file, or start a new memory '
                    '(other_world: new moves this one aside) or use it anyway '
                    '(other_world: continue)') from None
            aside = _move_aside(Path(p.db_path), recorded)
            log.warning('%s; moved it aside to %s and started a new memory', exc, aside)
        store = open_file()
        store.claim_world(p.world_id)
        return store

    def claim_world(self, world_id: str) -> None:
        """Record the world this memory is of, or raise `WorldMismatchError` (see the store)."""
        if self.store is not None:
            self.store.claim_world(world_id)

    # ------------------------------------------------------------- building
    def set_layout(self, layout: SceneGraph, stamp_s: float) -> None:
        """Replace the rooms and places (e.g. a new map)."""
        self.memory.set_layout(layout, stamp_s)
        self.pipeline.layout = layout
        self._sync()

    def ingest(self, frame: Frame) -> FrameResult:
        """Take one frame into memory and persist what changed."""
        result = self.pipeline.process(frame)
        self._sync()
        return result

    def _sync(self, commit: bool = False) -> None:
        """Hand new events to the store. When it cannot write (a full disk, read-only media)
        memory goes on, the events wait in the store's batch, and every later sync retries."""
        if self.store is None:
            return
        try:
            self.store.sync(self.memory)
            if commit:
                self.store.commit()
        except StoreError as exc:
            self.store_failures += 1
            if self.store_error is None:
                log.error('%s; mapping goes on in memory, the events wait and are retried', exc)
            self.store_error = str(exc)
            return
        if self.store_error is not None and not self.store.pending:
            log.warning('%s: writing again; every waiting event is committed', self.store.path)
            self.store_error = None

    def flush(self) -> None:
        """Commit everything pending to the store (retried later if it cannot write)."""
        self._sync(commit=True)

    def close(self) -> None:
        """Commit and close the store."""
        if self.store is not None:
            self.store.sync(self.memory)
            self.store.close()
            self.store = None

    # -------------------------------------------------------------- queries
    def _get_parser(self) -> QuestionParser:
        # The vocabulary follows memory: rebuilt when objects were added since.
        key = self.memory.num_objects()
        if self._parser is None or self._parser[0] != key:
            from robot_memory.language.parser import QuestionParser, Vocabulary

            embedder = None
            if self.params.use_embeddings:
                from robot_memory.language.embeddings import default_embedder

                embedder = default_embedder()
            graph = self.memory.at(self.memory.now_s).scene_graph()
            parser = QuestionParser(Vocabulary.from_scene_graph(graph), self.memory.clock,
                                    embedder)
            self._parser = (key, parser)
        return self._parser[1]

    def _match_label(self, label: str, labels: Sequence[str]) -> str | None:
        from robot_memory.language.parser import DEFAULT_LABELS

        if not self.params.use_embeddings:
            return None
        try:
            from robot_memory.language.embeddings import default_embedder

            # A class name of its own (toolbox, cup) is only another class's synonym when the
            # two are very close (couch → sofa); other words (rucksack) need less.
            known = label in DEFAULT_LABELS or label in self.engine.taxonomy.classes
            match = default_embedder().best_match(label, list(labels),
                                                  min_score=0.75 if known else 0.5)
        except (ImportError, RobotMemoryError, OSError) as exc:
            log.warning('open-vocabulary matching unavailable: %s', exc)
            return None
        return match[0] if match else None

    def _score_text(self, text: str, descriptions: Sequence[str]) -> ArrayLike:
        """Cosine similarity of a question to descriptions (open-vocabulary retrieval); word
        overlap when embeddings are off or unavailable."""
        if not self.params.use_embeddings:
            return self.engine.word_overlap(text, descriptions)
        try:
            from robot_memory.language.embeddings import default_embedder

            vectors = default_embedder().embed([text, *descriptions])
        except (ImportError, RobotMemoryError, OSError) as exc:
            log.warning('retrieval by embeddings unavailable: %s', exc)
            return self.engine.word_overlap(text, descriptions)
        scores: ArrayLike = vectors[1:] @ vectors[0]
        return scores

    def parse(self, question: str, now_s: float | None = None) -> ParseResult:
        """Parse an English question asked at `now_s` (default: memory's latest time)."""
        return self._get_parser().parse(question, self.memory.now_s if now_s is None else now_s)

    def ask(self, question: str, now_s: float | None = None) -> Answer:
        """Parse and answer an English question from memory alone."""
        now = self.memory.now_s if now_s is None else now_s
        parsed = self.parse(question, now)
        if parsed.query is None:
            return Answer(None, None, f'I could not understand the question: {parsed.error}',
                          0.0, error=parsed.error)
        return self.engine.answer(parsed.query, now)

    def handle(self, request: str | Mapping[str, Any]) -> MemoryReply:
        """Serve one `memory/query` request; never raises (errors come back in the reply)."""
        self.requests += 1
        request_id: JsonValue = None
        try:
            data = decode_request(request)
            request_id = data.get('id')
            parsed = parse_request(data)
            now = parsed.now_s if parsed.now_s is not None else self.memory.now_s
            if parsed.mode == 'layout':
                return LayoutReply(id=request_id, ok=True,
                                   layout=self.memory.layout_at(now).to_dict())
            # A question counts what was just seen: a newcomer not yet told from a look-alike
            # is settled first, as at the end of a patrol (MappingPipeline.flush).
            self.pipeline.flush()
            query = parsed.query
            if query is None:
                question = self.parse(parsed.question, now)
                if question.query is None:
                    self.request_errors += 1
                    return UnparsedReply(
                        id=request_id, ok=False, query=None,
                        answer=f'I could not understand the question: {question.error}',
                        error=question.error)
                query = question.query
            answer = self.engine.answer(query, now).to_dict()
            reply = AnswerReply(id=request_id, ok=True, query=query_to_dict(query),
                                answer=answer['answer'], value=answer['value'],
                                confidence=answer['confidence'],
                                needs_verification=answer['needs_verification'],
                                evidence=answer['evidence'], error=answer['error'])
            if parsed.mode == 'belief':
                return BeliefReply(
                    **reply,
                    belief=[HypothesisDict(value=h.value, prob=h.prob, places=sorted(h.places))
                            for h in self.engine.belief(query, now)],
                    # The planner's sensor model, as this robot's patrols measured it.
                    detection_prob=self.pipeline.detection.prob())
            return reply
        except (RobotMemoryError, KeyError, TypeError, ValueError, ImportError, OSError) as exc:
            self.request_errors += 1
            log.warning('bad memory request: %s', exc)
            return ErrorReply(id=request_id, ok=False, error=str(exc))

    # ------------------------------------------------------------ snapshots
    def objects_at(self, at_s: float, room: str = '',
                   class_name: str = '') -> tuple[float, list[ObjectRecord]]:
        """The objects present at `at_s` (0 = now) and the time used (the GetObjects service).

        Raises `InvalidInputError` for a time or filter that is none.
        """
        self.pipeline.flush()  # what was just seen counts, as for a question
        return objects_at(self.memory, at_s, room, class_name)

    def changes_between(self, since_s: float, until_s: float,
                        room: str = '') -> list[ChangeRecord]:
        """What changed between two times (0 = now) (the GetChanges service)."""
        self.pipeline.flush()
        return changes_between(self.memory, since_s, until_s, room)

    # ------------------------------------------------------------ map data
    def object_markers(self, now_s: float | None = None) -> list[ObjectMarker]:
        """Present objects with their staleness belief, for visualisation."""
        now = self.memory.now_s if now_s is None else now_s
        tracks = self.pipeline.tracks
        out = []
        for object_id, state in sorted(self.memory.at(now).objects.items()):
            track = tracks.get(object_id)
            extent = track.extent_m if track is not None else (0.2, 0.2, 0.2)
            p = self.memory.staleness.p_still_there(state.label, now - state.last_seen_s,
                                                    object_id, state.mobility)
            out.append(ObjectMarker(object_id, state.label, state.position_m or (0, 0, 0),
                                    extent, state.room_id, p,
                                    state.support[1] if state.support else None))
        return out

    def diagnostics(self) -> dict[str, Any]:
        """Counters for the `diagnostics` topic."""
        stats = dict(self.pipeline.stats())
        stats['frames_skipped'], stats['segments_skipped'] = split_skips(self.pipeline.skips)
        stats.update({'requests': self.requests, 'request_errors': self.request_errors,
                      'events': self.memory.num_events,
                      'store_bytes': self.store.file_bytes() if self.store else 0,
                      'store_pending_events': self.store.pending if self.store else 0,
                      'store_failures': self.store_failures,
                      'store_error': self.store_error or '',
                      'wall_time_s': time.time()})
        return stats

    @property
    def db_path(self) -> Path:
        """The memory file."""
        return Path(self.params.db_path)
