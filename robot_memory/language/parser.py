"""English questions → typed queries, by rules over words plus open-vocabulary matching.

The parser works in fixed steps, each of which a reader can check in `ParseResult.matched`:

1. normalise the text (lower case, contractions, punctuation);
2. find time expressions (`robot_memory.language.timeexpr`) and mask them out;
3. find object names of the vocabulary (multi-word, plural forms) and rooms after a
   preposition ("in the kitchen"), with synonyms ("lounge") and, when an embedder is given,
   embedding similarity;
4. decide the question type from cue words ("how many", "last see", "usually", "changed",
   "where", a state word, …);
5. pick the target noun phrase: the object name that is not a place ("the mug *on the desk*"),
   with its colour; a phrase outside the vocabulary is matched with the embedder ("rucksack" →
   backpack) or, without one, kept literally.

A question it cannot read gets `query=None` and an `error` that says what was missing and why;
it never guesses a type.

The steps live in modules by job: `lexicon` and `cues` (the words and cue patterns, as data),
`vocabulary` (what can be named), `names` (finding names and noun phrases), `slots` (filling
a shape's target, place and time), `shapes` (the cue rule cascade) and this module (the
pipeline, context sentences, the intent classifier and the language-model fallback).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import (
    Category,
    Changes,
    History,
    Query,
    Retrieve,
    Unanswerable,
    Usual,
    WhereWas,
    query_to_dict,
)
from robot_memory.core.taxonomy import Taxonomy, default_taxonomy
from robot_memory.exceptions import RobotMemoryError
from robot_memory.language.cues import ABOUT_PEOPLE, NEEDS_KNOWLEDGE, OPINION
from robot_memory.language.intents import IntentClassifier
from robot_memory.language.lexicon import (
    DEFAULT_COLORS,
    DEFAULT_LABELS,
    DEFAULT_ROOMS,
    DEFAULT_STATES,
    LOCATION_PREPOSITIONS,
    NOT_THINGS,
    PEOPLE_NOUNS,
    SEP,
    SHAPE_WORDS,
    TOKEN,
)
from robot_memory.language.names import Phrase, normalise, only_generic
from robot_memory.language.shapes import ShapeRules
from robot_memory.language.slots import ParseFailure
from robot_memory.language.timeexpr import (
    TimeExpression,
    TimeKind,
    find_times,
    unused_time_words,
)
from robot_memory.language.vocabulary import Vocabulary

if TYPE_CHECKING:
    from robot_memory.language.embeddings import Embedder
    from robot_memory.language.llm import LLMBackend

__all__ = [
    'DEFAULT_COLORS',
    'DEFAULT_LABELS',
    'DEFAULT_ROOMS',
    'DEFAULT_STATES',
    'ParseResult',
    'QuestionParser',
    'Vocabulary',
]


class ParseResult(NamedTuple):
    """What a question means (`query`), or why it could not be read (`error`), and the pieces
    that matched (`matched`: rule, target, label match and score, colour, room, time, …)."""

    query: Query | None
    error: str
    matched: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Whether the question was understood."""
        return self.query is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: type, category, target, room, time, query, error, matched."""
        if self.query is None:
            # The shape may be known although a slot was not ("what is in the attic?").
            return {'type': self.matched.get('shape'),
                    'category': self.matched.get('category'), 'target': None,
                    'room': None, 'time': None, 'query': None, 'error': self.error,
                    'unsure': self.matched.get('unsure', ''),
                    'matched': _plain(self.matched)}
        q = self.query
        target = getattr(q, 'target', None)
        room = getattr(q, 'room', '') or (target.room if target is not None else '')
        return {
            'type': type(q).__name__,
            'category': str(q.category),
            'target': None if target is None else {'label': target.label, 'color': target.color,
                                                   'text': target.text},
            'room': room or None,
            'time': _time_summary(q),
            'query': query_to_dict(q),
            'error': '',
            'unsure': self.matched.get('unsure', ''),
            'matched': _plain(self.matched),
        }


def _plain(matched: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, TimeKind) else v) for k, v in matched.items()}


def _time_summary(query: Query) -> dict[str, Any] | None:
    if isinstance(query, Usual):
        return {'time_of_day': query.time_of_day} if query.time_of_day else None
    if isinstance(query, Changes | History):
        if query.since.is_now and query.until.is_now:
            return None
        return {'text': query.since.text or query.until.text, 'start_s': query.since.start_s,
                'end_s': query.until.end_s}
    at = getattr(query, 'at', None)
    if at is None or at.is_now:
        return None
    return {'text': at.text, 'start_s': at.start_s, 'end_s': at.end_s}


class _Recorder:
    """Stands in for the embedder during `parse_many`'s first pass: records what would be
    embedded and answers from the cache, or with zero vectors for texts not embedded yet."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.texts: list[str] = []

    @property
    def dim(self) -> int:
        """Length of the real embedder's vectors."""
        return self.embedder.dim

    def cached(self, text: str) -> np.ndarray | None:
        """The real embedder's vector of `text`, if it has one cached."""
        return self.embedder.cached(text)

    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        texts = [texts] if isinstance(texts, str) else list(texts)
        rows = []
        for text in texts:
            cached = self.embedder.cached(text)
            if cached is None:
                self.texts.append(text)
                cached = np.zeros(self.embedder.dim, dtype=np.float32)
            rows.append(cached)
        return np.stack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)


class QuestionParser(ShapeRules):
    """Turns English questions into typed queries on the memory's clock.

    `embedder` (optional) matches names outside the vocabulary; `backend` (optional) is asked
    once to rephrase a question the rules cannot read. Without either, parsing is pure rules
    and takes well under a millisecond.
    """

    def __init__(self, vocabulary: Vocabulary | None = None, clock: MemoryClock | None = None,
                 embedder: Embedder | None = None, *, backend: LLMBackend | None = None,
                 min_label_score: float = 0.5, min_label_margin: float = 0.04,
                 min_room_score: float = 0.8, min_room_margin: float = 0.05,
                 min_intent_score: float = 0.35, min_intent_margin: float = 0.02,
                 taxonomy: Taxonomy | None = None,
                 min_class_synonym_score: float = 0.75) -> None:
        super().__init__(vocabulary if vocabulary is not None else Vocabulary(),
                         taxonomy if taxonomy is not None else default_taxonomy(), embedder,
                         min_label_score=min_label_score, min_label_margin=min_label_margin,
                         min_room_score=min_room_score, min_room_margin=min_room_margin,
                         min_class_synonym_score=min_class_synonym_score)
        self.clock = clock if clock is not None else MemoryClock()
        self.backend = backend
        self.min_intent_score = min_intent_score
        self.min_intent_margin = min_intent_margin
        self._intents: IntentClassifier | None = None

    def parse(self, question: str, now_s: float) -> ParseResult:
        """Parse one question asked at `now_s` (seconds since the Unix epoch)."""
        start = time.perf_counter()
        result = self._parse_once(question, now_s)
        if not result.ok and self.backend is not None and question.strip():
            result = self._parse_rephrased(question, now_s, result)
        result.matched['parse_ms'] = round((time.perf_counter() - start) * 1e3, 3)
        return result

    def parse_many(self, questions: Sequence[str], now_s: float) -> list[ParseResult]:
        """Parse many questions asked at `now_s`, embedding what they need in batches.

        A first pass over all questions records every text the open-vocabulary matching and
        the intent classifier would embed; those are embedded in one batch (sorted by length),
        and the second pass reads them from the embedder's cache. The results are the same as
        parsing one at a time.
        """
        questions = list(questions)
        if self.embedder is not None and len(questions) > 1:
            self.warm_up()
            real = self.embedder
            recorder = _Recorder(real)
            classifier = self.intents
            self.embedder = recorder
            if classifier is not None:
                classifier.embedder = recorder
            try:
                for question in questions:
                    self._parse_once(question, now_s)
            finally:
                self.embedder = real
                if classifier is not None:
                    classifier.embedder = real
            real.embed(recorder.texts)
        return [self.parse(q, now_s) for q in questions]

    def warm_up(self) -> None:
        """Embed the vocabulary now, so the first open-vocabulary question is fast."""
        if self.embedder is not None:
            self._label_embeddings()
            self._room_embeddings()
            if self.intents is not None:
                self.intents.warm_up()

    def _parse_rephrased(self, question: str, now_s: float, first: ParseResult) -> ParseResult:
        assert self.backend is not None
        try:
            rephrased = self.backend.rephrase(question).strip()
        except (RobotMemoryError, OSError) as exc:
            return ParseResult(None, f'{first.error} (the language model could not rephrase '
                                     f'it: {exc})', first.matched)
        second = self._parse_once(rephrased, now_s)
        second.matched['rephrased'] = rephrased
        if second.ok:
            return second
        return ParseResult(None, f'{first.error}; the language model rephrased it as '
                                 f'{rephrased!r}, which I could not read either', second.matched)

    def _parse_once(self, question: str, now_s: float) -> ParseResult:
        sentences = _sentences(question)
        unanswerable = None
        if len(sentences) > 1 and sentences[-1].endswith('?'):
            # "My mum always forgets things. Where was her handbag?": the question is the last
            # sentence; the words before it are context (they name no shape of their own).
            alone = self._parse_once(sentences[-1], now_s)
            asked_before = any(s.endswith('?') for s in sentences[:-1])
            if alone.ok and (not isinstance(alone.query, Unanswerable) or not asked_before):
                return _with_context(alone, sentences[:-1])
            if alone.ok:
                # "Where are my keys? Why do I keep losing them?": answer the question memory
                # can answer, if the sentences before hold one.
                unanswerable = alone
                before = self._parse_once(' '.join(sentences[:-1]), now_s)
                if before.ok and not isinstance(before.query, Unanswerable):
                    return _with_context(before, sentences[-1:])
        elif len(sentences) > 1 and any(s.endswith('?') for s in sentences):
            # "Where is my phone? I had it this morning.", "… ? Thanks!": what follows the
            # last question is context too.
            ask = max(i for i, s in enumerate(sentences) if s.endswith('?'))
            head = self._parse_once(' '.join(sentences[:ask + 1]), now_s)
            if head.ok:
                head.matched['context'] = ' '.join(
                    [head.matched.get('context', ''), *sentences[ask + 1:]]).strip()
                return head
        matched: dict[str, Any] = {}
        try:
            query = self._read(question, now_s, matched)
        except ParseFailure as exc:
            if unanswerable is not None:
                return unanswerable
            first = ParseResult(None, str(exc), matched)
            # "We had guests at the weekend. What changed since Friday?": the context before
            # the question may hold words that confuse it; read the question alone.
            last = _last_question(question)
            if not last:
                return first
            second = self._parse_once(last, now_s)
            if not second.ok and second.error.startswith('could not tell which object'):
                # "Someone borrowed the drill. Where was it on Sunday?": "it" is the drill.
                named = self._context_object(question[:len(question) - len(last)])
                if named:
                    replaced = re.sub(r'\b(?:it|them)\b', f'the {named}', last, count=1,
                                      flags=re.IGNORECASE)
                    third = self._parse_once(replaced, now_s)
                    if third.ok:
                        second = third
            if second.ok or (second.matched.get('shape') and not matched.get('shape')):
                second.matched['context'] = question[:len(question) - len(last)].strip()
                return second
            return first
        matched['type'] = type(query).__name__
        if unanswerable is not None and isinstance(query, Unanswerable):
            return unanswerable
        return ParseResult(query, '', matched)

    def _read(self, question: str, now_s: float, matched: dict[str, Any]) -> Query:
        text = normalise(question)
        if not text.strip(' |.?!'):
            raise ParseFailure('the question is empty')
        times = find_times(text, self.clock, now_s)
        unused = unused_time_words(text, times)
        if unused:
            raise ParseFailure(f'{question.strip()!r} names a time I cannot use: '
                               f'{", ".join(repr(w) for w in unused)} (a date that does not '
                               'exist, or a form I do not know); say it as "on November 3", '
                               '"at 9 am", "yesterday evening" or "on Monday"')
        masked = text
        for expression in reversed(times):
            lo, hi = expression.span
            masked = f'{masked[:lo]} {SEP} {masked[hi:]}'
        when, also = _main_time(times, question, text)
        if also:
            matched['also_times'] = also
        if when is not None:
            matched['time'] = when.text
            matched['time_kind'] = when.kind
        tokens = TOKEN.findall(masked)
        tokens = [self._unpossess(t) if re.fullmatch(r"[a-z0-9]+(?:'[a-z]+)?", t) else SEP
                  for t in tokens]
        label_spans = self._find_labels(tokens)
        room = self._find_room(tokens, label_spans, question, matched)
        if room is not None:
            if room.how != 'unknown':
                matched.update(room=room.text, room_id=room.value, room_match=room.how)
            if room.how == 'embedding':
                matched['room_score'] = round(room.score, 3)
            label_spans = [s for s in label_spans if s.end <= room.start or s.start >= room.end]
            if room.how == 'modifier':
                # "what is on the study desk": the room's words go, so that "the desk" keeps
                # its preposition and determiner.
                cut = room.end - room.start
                tokens = tokens[:room.start] + tokens[room.end:]
                label_spans = [s if s.start < room.start else
                               s._replace(start=s.start - cut, end=s.end - cut)
                               for s in label_spans]
            else:
                tokens = [(SEP if room.start <= i < room.end else t)
                          for i, t in enumerate(tokens)]
        room_id = room.value if room is not None and room.value else ''
        if room is not None and room.how == 'unknown_room':
            # Not a room memory knows; the error is raised once the shape is known.
            room_id = 'room:' + room.text.replace(' ', '_')
        cue_text = ' '.join(TOKEN.findall(masked))
        phrases = self._phrases(tokens, label_spans)
        state = self._find_state(tokens) or self._state_in_time(text, times)
        if state:
            matched['state'] = state
        reason, subject = _unanswerable_reason(cue_text), ''
        if not reason:
            reason, subject = _not_about_things(phrases)
        if reason:
            # Read, but about something no observation settles: say so, and why.
            matched.update(shape='Unanswerable', rule=f'unanswerable:{reason}',
                           category=str(Category.PRESENT), reason=reason)
            return Unanswerable(question.strip(), reason, subject)
        try:
            query = self._decide(question, cue_text, phrases, state, room_id, when, now_s,
                                 matched)
        except ParseFailure:
            if 'shape' in matched or self.embedder is None:
                raise
            # No cue rule knows this wording: the intent classifier picks the shape, the
            # words still fill the slots.
            matched['forced_shape'] = self._classify(question, matched)
            query = self._decide(question, cue_text, phrases, state, room_id, when, now_s,
                                 matched)
        if matched.get('also_times') and not isinstance(query, WhereWas):
            names = ', '.join(repr(t.text) for t in (when, *matched['also_times']) if t)
            raise ParseFailure(f'{question.strip()!r} names more than one time ({names}); ask '
                               'about one')
        if matched.get('room_error') and not isinstance(query, Retrieve):
            raise ParseFailure(matched['room_error'])
        matched.pop('also_times', None)
        return query

    def _context_object(self, context: str) -> str:
        """The last object name the context before a question mentions ('' if none)."""
        text = normalise(context)
        for expression in reversed(find_times(text, self.clock, 0.0)):
            lo, hi = expression.span
            text = f'{text[:lo]} {SEP} {text[hi:]}'
        tokens = [t if re.fullmatch(r"[a-z0-9]+(?:'[a-z]+)?", t) else SEP
                  for t in TOKEN.findall(text)]
        spans = self._find_labels(tokens)
        if spans:
            return ' '.join(tokens[spans[-1].start:spans[-1].end])
        phrases = [p for p in self._phrases(tokens, []) if p.words and not only_generic(p)
                   and p.determined]
        return ' '.join(phrases[-1].words) if phrases else ''

    def intent_text(self, question: str) -> str:
        """The question as the intent classifier sees it: times and object names masked."""
        text = normalise(question)
        for expression in reversed(find_times(text, self.clock, 0.0)):
            lo, hi = expression.span
            text = f'{text[:lo]} then {text[hi:]}'
        tokens = TOKEN.findall(text)
        starts = {s.start: s for s in self._find_labels(tokens)}
        out, i = [], 0
        while i < len(tokens):
            if i in starts:
                out.append('thing')
                i = starts[i].end
            else:
                out.append(tokens[i])
                i += 1
        return ' '.join(out)

    @property
    def intents(self) -> IntentClassifier | None:
        """The intent classifier (None without an embedder)."""
        if self.embedder is None:
            return None
        if self._intents is None:
            self._intents = IntentClassifier(self.embedder, prepare=self.intent_text)
        return self._intents

    def _classify(self, question: str, matched: dict[str, Any]) -> str:
        classifier = self.intents
        assert classifier is not None
        intent = classifier.score(question)
        matched['intent'] = {'best': intent.best, 'score': round(intent.score, 3),
                             'second': intent.second, 'margin': round(intent.margin, 3)}
        if intent.score < self.min_intent_score or intent.margin < self.min_intent_margin:
            matched['unsure'] = f'{intent.best} or {intent.second}'
            raise ParseFailure(
                f'I am not sure what {question.strip()!r} asks: no question form I know fits '
                f'its words, and it reads about as much like {SHAPE_WORDS[intent.best]} as '
                f'like {SHAPE_WORDS[intent.second]}; please rephrase it')
        return intent.best


def _unanswerable_reason(cue: str) -> str:
    """Why a question's words put it beyond memory ('' when they do not): it is about
    people, asks an opinion, or needs knowledge or advice from outside the home."""
    for reason, pattern in (('about_people', ABOUT_PEOPLE), ('opinion', OPINION),
                            ('needs_knowledge', NEEDS_KNOWLEDGE)):
        if pattern.search(cue):
            return reason
    return ''


def _not_about_things(phrases: list[Phrase]) -> tuple[str, str]:
    """'about_people' / 'not_a_remembered_thing' when every phrase a question is about names
    a person or something no camera sees ("is the internet working?", "where are the kids?");
    a place ("in the garage") or a modifier ("the password *for the router*") does not count.
    ('', '') when any names a thing of the vocabulary or one outside both lists; else the
    reason and the first such phrase."""
    if any(p.label is not None for p in phrases if p.preceded_by not in LOCATION_PREPOSITIONS):
        return '', ''  # "my son is looking for his ball": about the ball
    about = [p for p in phrases if p.words and not only_generic(p)
             and p.preceded_by not in LOCATION_PREPOSITIONS | {'for', 'of'}]
    if not about:
        return '', ''
    heads = {p.words[-1] for p in about}
    subject = ' '.join(about[0].words)
    if heads <= PEOPLE_NOUNS:
        return 'about_people', subject
    if heads <= PEOPLE_NOUNS | NOT_THINGS:
        return 'not_a_remembered_thing', subject
    return '', ''


def _sentences(question: str) -> list[str]:
    """The sentences of a question, each with its end mark."""
    return [p.strip() for p in re.split(r'(?<=[.!?;:])\s+', question.strip()) if p.strip()]


def _with_context(result: ParseResult, context: list[str]) -> ParseResult:
    result.matched['context'] = ' '.join(context).strip()
    return result


def _last_question(question: str, clauses: bool = True) -> str:
    """The last sentence (with `clauses`, also the clause after "so" / a comma) of a question
    with context before it; '' when there is nothing before it."""
    text = question.strip()
    pattern = r'(?<=[.!?;:])\s+'
    if clauses:
        pattern += r'|,\s+(?:so\s+|but\s+|and\s+)?|\s+so\s+(?=[a-z])'
    parts = re.split(pattern, text)
    parts = [p for p in parts if p.strip()]
    if len(parts) < 2:
        return ''
    return parts[-1].strip()


def _main_time(times: list[TimeExpression], question: str,
               text: str) -> tuple[TimeExpression | None, list[TimeExpression]]:
    """The time a question asks about, and further times joined to it by "and"."""
    timed = [t for t in times if t.kind is not TimeKind.NOW]
    if len(timed) > 1:
        joined = all(t.kind is TimeKind.PERIOD for t in timed) and all(
            re.fullmatch(r'[\s,]*(?:and|&|then|as well as)?(?:\s+(?:then|also))?\s*'
                         r'(?:on\s+)?', text[a.span[1]:b.span[0]])
            for a, b in itertools.pairwise(timed))
        if joined:
            return timed[0], timed[1:]
        names = ', '.join(repr(t.text) for t in timed)
        raise ParseFailure(f'{question.strip()!r} names more than one time ({names}); ask about '
                           'one')
    if timed:
        return timed[0], []
    return (times[0] if times else None), []
