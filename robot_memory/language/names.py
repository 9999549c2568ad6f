"""Finding the vocabulary's names in a question: object labels, rooms, states, noun phrases.

`NameMatcher` holds the vocabulary's lookup tables (multi-word names, plural forms, room
synonyms) and, given an embedder, matches a name outside the vocabulary by similarity
("rucksack" -> backpack, "lounge" -> living room). The helpers below it normalise a question's
text and read its noun phrases.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from robot_memory.core.taxonomy import Taxonomy
from robot_memory.language.lexicon import (
    COLOR_SYNONYMS,
    CONTRACTIONS,
    DETERMINERS,
    GENERIC_NOUNS,
    HOME_WORDS,
    LABEL_TEMPLATE,
    PLACE_WORDS,
    POSITION_STATES,
    ROOM_NOUNS,
    ROOM_PREPOSITIONS,
    ROOM_SYNONYMS,
    ROOM_TEMPLATE,
    SEP,
    STATE_SYNONYMS,
    STOP_WORDS,
    TOKEN,
)
from robot_memory.language.timeexpr import TimeExpression
from robot_memory.language.vocabulary import Vocabulary, human_name

if TYPE_CHECKING:
    from robot_memory.language.embeddings import Embedder


class Span(NamedTuple):
    """Tokens `[start, end)` that name `value` (a label or a room id), and how they matched."""

    start: int
    end: int
    value: str
    how: str
    score: float
    text: str = ''


class Phrase(NamedTuple):
    """A noun phrase that may be the target."""

    start: int
    words: list[str]
    label: Span | None
    color: str
    preceded_by: str
    determined: bool


class NameMatcher:
    """The vocabulary's names as lookup tables, matched in a question's tokens.

    With an `embedder`, a phrase outside the vocabulary is matched by similarity. The
    thresholds were tuned on held-out synonyms and non-objects (see the tests): a match must
    be similar enough (`min_*_score`) and clearly better than the runner-up (`min_*_margin`).
    """

    def __init__(self, vocabulary: Vocabulary, taxonomy: Taxonomy, embedder: Embedder | None,
                 *, min_label_score: float, min_label_margin: float, min_room_score: float,
                 min_room_margin: float, min_class_synonym_score: float) -> None:
        self.vocabulary = vocabulary
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.min_label_score = min_label_score
        self.min_label_margin = min_label_margin
        self.min_room_score = min_room_score
        self.min_room_margin = min_room_margin
        self.min_class_synonym_score = min_class_synonym_score
        vocab = self.vocabulary
        self._labels: dict[tuple[str, ...], str] = {}
        for label in vocab.labels:
            self._labels.setdefault(tuple(human_name(label).split()), label)
        self._max_label_words = max((len(k) for k in self._labels), default=1)
        self._label_names = sorted(self._labels, key=lambda k: self._labels[k])
        # Category names ("fruit", "drink") are names too (matched exactly; open-vocabulary
        # matching keeps to classes, so "rucksack" is a backpack, not a bag).
        for name in self.taxonomy.categories:
            self._labels.setdefault(tuple(human_name(name).split()), name)
        self._max_label_words = max((len(k) for k in self._labels), default=1)
        self._colors = {human_name(c): c for c in vocab.colors}
        self._colors.update({k: v for k, v in COLOR_SYNONYMS.items() if v in vocab.colors})
        self._states = {human_name(s): s for s in vocab.states}
        self._states.update({k: v for k, v in STATE_SYNONYMS.items() if v in vocab.states})
        self._room_names: dict[tuple[str, ...], str] = {}
        for name, room_id in vocab.rooms.items():
            self._room_names.setdefault(tuple(human_name(name).split()), room_id)
        self._rooms = dict(self._room_names)
        for name, room_id in list(vocab.rooms.items()):
            base = re.sub(r' \d+$', '', human_name(name))
            for synonym in ROOM_SYNONYMS.get(base, ()):
                self._rooms.setdefault(tuple(synonym.split()), room_id)
        self._max_room_words = max((len(k) for k in self._rooms), default=1)
        self._label_matrix: np.ndarray | None = None
        self._room_matrix: np.ndarray | None = None
        self._room_rows: list[str] = []

    def _find_labels(self, tokens: list[str]) -> list[Span]:
        spans: list[Span] = []
        i = 0
        while i < len(tokens):
            found = None
            for k in range(min(self._max_label_words, len(tokens) - i), 0, -1):
                words = tokens[i:i + k]
                if SEP in words:
                    continue
                hit = self._lookup_label(words)
                if hit is not None:
                    found = Span(i, i + k, hit[0], hit[1], 1.0)
                    break
            if found is None:
                i += 1
            else:
                spans.append(found)
                i = found.end
        return spans

    def _lookup_label(self, words: list[str]) -> tuple[str, str] | None:
        head = words[-1]
        for form, how in _word_forms(head):
            label = self._labels.get((*words[:-1], form))
            if label is not None:
                return label, how
        return None

    def _find_room(self, tokens: list[str], labels: list[Span], q: str,
                   matched: dict[str, Any]) -> Span | None:
        starts = {s.start: s for s in labels}
        for i, token in enumerate(tokens):
            if token not in ROOM_PREPOSITIONS:
                continue
            j = i + 1
            while j < len(tokens) and tokens[j] in DETERMINERS:
                j += 1
            if j >= len(tokens) or tokens[j] == SEP:
                continue
            for k in range(min(self._max_room_words, len(tokens) - j), 0, -1):
                room_id = self._rooms.get(tuple(tokens[j:j + k]))
                label = starts.get(j)
                if room_id is not None and (label is None or label.end - j <= k):
                    return Span(i, j + k, room_id, 'exact', 1.0, ' '.join(tokens[j:j + k]))
            if tokens[j] in HOME_WORDS:
                return Span(i, j + 1, '', 'home', 1.0, tokens[j])
            if j in starts:
                # "in the fridge": a piece of furniture or an object, a place to look in.
                matched.setdefault('place', starts[j].value)
                continue
            if tokens[j] in STOP_WORDS:
                continue
            words: list[str] = []
            while (j + len(words) < len(tokens) and len(words) < 3
                   and tokens[j + len(words)] != SEP
                   and tokens[j + len(words)] not in self._states
                   and (tokens[j + len(words)] not in STOP_WORDS
                        or tokens[j + len(words)] in ROOM_NOUNS)):
                words.append(tokens[j + len(words)])
            if not words:
                continue
            phrase = ' '.join(words)
            if len(words) > 1 and self._lookup_label(words[-1:]) is not None and \
                    words[-1] not in ROOM_NOUNS:
                # "in the pantry cupboard": a piece of furniture to look in, not a room.
                matched.setdefault('place', phrase)
                continue
            for k in range(len(words) - 1, 0, -1):
                # "the master bedroom" is a bedroom: English names the kind last.
                room_id = self._room_names.get(tuple(words[-k:]))
                if room_id is not None:
                    return Span(i, j + len(words), room_id, 'head', 1.0, phrase)
            if any(w in PLACE_WORDS for w in words):
                matched['room_error'] = (f'unknown room {phrase!r} in {q.strip()!r}; known '
                                         f'rooms: {self._room_list()}')
                return Span(i, j + len(words), '', 'unknown_room', 0.0, phrase)
            roomish = words[-1] in ROOM_NOUNS or words[-1].endswith('room')
            if self.embedder is not None:
                if not roomish and self._open_label(words)[1] != 'literal':
                    # It reads as an object ("in the cupboard"): a place to look in, no room.
                    matched.setdefault('place', phrase)
                    continue
                hit = self._embed_room(phrase)
                if hit is not None:
                    return Span(i, j + len(words), hit[0], 'embedding', hit[1], phrase)
            if roomish:
                matched['room_error'] = (f'unknown room {phrase!r} in {q.strip()!r}; known '
                                         f'rooms: {self._room_list()}')
                return Span(i, j + len(words), '', 'unknown_room', 0.0, phrase)
            matched.setdefault('ignored', []).append(phrase)
            return Span(i, j + len(words), '', 'unknown', 0.0, phrase)
        covered = {i for s in labels for i in range(s.start, s.end)}
        for i in range(len(tokens)):
            # "the bedroom lamp", "diningroom chairs": a room named before a thing picks the
            # thing in that room (a name the vocabulary has whole, "kitchen counter", wins).
            for k in range(min(self._max_room_words, len(tokens) - i - 1), 0, -1):
                room_id = self._rooms.get(tuple(tokens[i:i + k]))
                if room_id is not None and i + k in starts and \
                        not covered & set(range(i, i + k)):
                    return Span(i, i + k, room_id, 'modifier', 1.0, ' '.join(tokens[i:i + k]))
        # A room named as a subject ("does the kitchen have …") needs no preposition.
        for i, token in enumerate(tokens):
            if token not in ('the', 'my', 'our'):
                continue
            for k in range(self._max_room_words, 0, -1):
                room_id = self._rooms.get(tuple(tokens[i + 1:i + 1 + k]))
                after = tokens[i + 1 + k] if i + 1 + k < len(tokens) else SEP
                if after != SEP and after not in STOP_WORDS and after not in self._states:
                    continue  # "the kitchen island": a thing named after the room
                if room_id is not None and not covered & set(range(i + 1, i + 1 + k)):
                    return Span(i, i + 1 + k, room_id, 'exact', 1.0,
                                ' '.join(tokens[i + 1:i + 1 + k]))
        return None

    def _find_state(self, tokens: list[str]) -> str:
        found = []
        for i, token in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else SEP
            if token == 'on':
                # "on" is a state only where no noun follows ("is the lamp on?").
                if nxt not in (SEP, 'or', 'still', 'again', 'anymore', 'yet', 'and', 'at'):
                    continue
            elif token == 'off' and nxt in DETERMINERS:
                continue
            state = self._states.get(token)
            if state is None and token in POSITION_STATES and nxt == SEP and i > 0 and (
                    tokens[i - 1] not in STOP_WORDS or tokens[i - 1] in ('still', 'all')):
                state = self._states.get(POSITION_STATES[token])
            if state is not None and state not in found:
                found.append(state)
        return found[0] if len(found) == 1 else ''

    def _unpossess(self, token: str) -> str:
        # "the mug's usual place" is about the mug; "mom's mug" keeps its possessive.
        if token.endswith("'s") and self._lookup_label([token[:-2]]) is not None:
            return token[:-2]
        return token

    def _state_in_time(self, text: str, times: list[TimeExpression]) -> str:
        # "Was the lamp on yesterday?": the time expression swallowed the state word "on".
        if 'on' not in self._states:
            return ''
        for expression in times:
            before = TOKEN.findall(text[:expression.span[0]])
            if (expression.text.lower().startswith('on ') and before
                    and (self._lookup_label(before[-1:]) is not None or before[-1] == 'it')):
                return self._states['on']
        return ''

    def _phrases(self, tokens: list[str], labels: list[Span]) -> list[Phrase]:
        by_start = {s.start: s for s in labels}
        covered = {i for s in labels for i in range(s.start, s.end)}
        phrases: list[Phrase] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token == SEP or (i not in covered and (token in STOP_WORDS
                                                        or _is_determiner(token)
                                                        or token in self._states)):
                i += 1
                continue
            start = i
            words: list[str] = []
            label: Span | None = None
            while i < len(tokens):
                t = tokens[i]
                if i in by_start:
                    label = by_start[i]
                    words.extend(tokens[i:label.end])
                    i = label.end
                    continue
                if t == SEP or t in STOP_WORDS or _is_determiner(t) or t in self._states:
                    break
                words.append(t)
                i += 1
            if label is not None and label.end != start + len(words):
                # The name is not the head ("notebook computer"): match the whole phrase.
                label = None
            prev, determined = _previous_word(tokens, start)
            color = ''
            while words and words[0] in self._colors and len(words) > 1:
                color = self._colors[words.pop(0)]
            phrases.append(Phrase(start, words, label, color, prev, determined))
        return phrases

    def _phrase_label(self, phrase: Phrase) -> str:
        """The class a noun phrase names: its vocabulary label, else the open-vocabulary one."""
        return phrase.label.value if phrase.label is not None else \
            self._open_label(phrase.words)[0]

    def _open_label(self, words: list[str]) -> tuple[str, str, float]:
        phrase = ' '.join(words)
        if self.embedder is not None and self._label_names:
            names = [' '.join(k) for k in self._label_names]
            matrix = self._label_embeddings()
            queries = [LABEL_TEMPLATE.format(phrase)]
            if len(words) > 1:
                # Average with the head noun: English compounds name their kind last.
                queries.append(LABEL_TEMPLATE.format(words[-1]))
            scores = (matrix @ self.embedder.embed(queries).T).mean(axis=1)
            order = np.argsort(-scores)
            best = float(scores[order[0]])
            margin = best - float(scores[order[1]]) if len(order) > 1 else best
            literal = '_'.join([*words[:-1], _singular(words[-1])])
            if literal in self.taxonomy.classes and best < self.min_class_synonym_score:
                # A class of its own ("toolbox", "cup"): not another class it resembles.
                return literal, 'class', 0.0
            if best >= self.min_label_score and margin >= self.min_label_margin:
                name = names[int(order[0])]
                return self._labels[tuple(name.split())], 'embedding', best
        literal = '_'.join([*words[:-1], _singular(words[-1])])
        return literal, 'literal', 0.0

    def _label_embeddings(self) -> np.ndarray:
        if self._label_matrix is None:
            assert self.embedder is not None
            self._label_matrix = self.embedder.embed(
                [LABEL_TEMPLATE.format(' '.join(k)) for k in self._label_names])
        return self._label_matrix

    def _room_embeddings(self) -> np.ndarray:
        if self._room_matrix is None:
            assert self.embedder is not None
            self._room_rows = list(self._rooms.values())
            self._room_matrix = self.embedder.embed(
                [ROOM_TEMPLATE.format(' '.join(k)) for k in self._rooms])
        return self._room_matrix

    def _embed_room(self, phrase: str) -> tuple[str, float] | None:
        assert self.embedder is not None
        if not self._rooms:
            return None
        scores = self._room_embeddings() @ self.embedder.embed(
            ROOM_TEMPLATE.format(phrase))[0]
        per_room: dict[str, float] = {}
        for room_id, score in zip(self._room_rows, scores, strict=True):
            per_room[room_id] = max(per_room.get(room_id, -1.0), float(score))
        ranked = sorted(per_room.items(), key=lambda kv: -kv[1])
        best = ranked[0][1]
        margin = best - ranked[1][1] if len(ranked) > 1 else best
        if best >= self.min_room_score and margin >= self.min_room_margin:
            return ranked[0]
        return None

    def _room_list(self) -> str:
        return ', '.join(sorted({human_name(n) for n in self.vocabulary.rooms}))


def normalise(question: str) -> str:
    """Lower case, plain apostrophes and hyphens, contractions spelled out, one space."""
    text = question.lower().replace('\u2019', "'").replace('\u2018', "'").replace('`', "'")
    text = re.sub(r'(?<!\d)-|-(?!\d)|[_/]', ' ', text)  # keep ISO dates (2026-11-03)
    text = re.sub(r"\b([a-z]+s)'(?=\s|$)", r'\1', text)  # the kids' room → the kids room
    text = re.sub(r'\bin front of\b', 'by', text)
    text = re.sub(r'\bon top of\b', 'on', text)
    text = re.sub(r'\binside of\b', 'inside', text)
    for pattern, replacement in CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return ' '.join(text.split())


def _word_forms(word: str) -> list[tuple[str, str]]:
    """The word, its singular guesses, and plural guesses (for labels such as 'keys')."""
    forms = [(word, 'exact')]
    if word.endswith('ies') and len(word) > 4:
        forms.append((word[:-3] + 'y', 'plural'))
    if word.endswith('ves') and len(word) > 4:
        forms += [(word[:-3] + 'f', 'plural'), (word[:-3] + 'fe', 'plural')]
    if word.endswith('es') and len(word) > 3:
        forms.append((word[:-2], 'plural'))
    if word.endswith('s') and len(word) > 2:
        forms.append((word[:-1], 'plural'))
    forms += [(word + 's', 'singular'), (word + 'es', 'singular')]
    return forms


def _singular(word: str) -> str:
    if word.endswith('ies') and len(word) > 4:
        return word[:-3] + 'y'
    if re.search(r'(?:ss|x|ch|sh)es$', word):
        return word[:-2]
    if word.endswith('s') and not word.endswith('ss') and len(word) > 3:
        return word[:-1]
    return word


def _previous_word(tokens: list[str], index: int) -> tuple[str, bool]:
    """The word before a phrase, skipping determiners, and whether there was one."""
    i = index - 1
    determined = False
    while i >= 0 and _is_determiner(tokens[i]):
        determined = True
        i -= 1
    return (tokens[i] if i >= 0 else ''), determined


def _is_determiner(token: str) -> bool:
    return token in DETERMINERS or token.endswith("'s")


def place_phrases(phrases: list[Phrase], prepositions: frozenset[str]) -> list[Phrase]:
    """The phrases that name a place after one of `prepositions` ("on *the sofa*")."""
    return [p for p in phrases if p.preceded_by in prepositions and p.words
            and not only_generic(p)]


def only_generic(phrase: Phrase) -> bool:
    """Whether a phrase names no thing in particular ("things", "anything")."""
    return phrase.label is None and all(w in GENERIC_NOUNS for w in phrase.words)
