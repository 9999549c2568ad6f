"""Open-vocabulary retrieval: the question's similarity to every object and room seeds
personalized PageRank over the scene graph; the best-ranked things and places answer.

`RetrievalAnswers` is a mixin of `QueryEngine` (over `EngineCore`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from robot_memory.core.engine_core import EngineCore
from robot_memory.core.episodic import graph_node_id
from robot_memory.core.queries import Answer, Retrieve
from robot_memory.core.retrieval import GraphIndex
from robot_memory.core.scene_graph import RoomAttributes

__all__ = ['RetrievalAnswers']


class RetrievalAnswers(EngineCore):
    """`Retrieve` questions, and the PPR index over the present scene graph."""

    def _describe_node(self, node: str, graph: Any) -> str:
        attrs = graph.find_node(node)
        if isinstance(attrs, RoomAttributes):
            name = f'the {(attrs.name or attrs.category).replace("_", " ")}'
            use = self.affordances.get(attrs.category, '')
            return f'{name}: {use}' if use else name
        label = getattr(attrs, 'label', '')
        if not label:
            return node
        use = self.affordances.get(label, '')
        return f'a {label.replace("_", " ")}' + (f': {use}' if use else '')

    def _retrieve(self, q: Retrieve, now: float) -> Answer:
        """Open-vocabulary retrieval: the question's similarity to every object and room
        seeds personalized PageRank over the scene graph; the top objects and rooms answer."""
        probe = q.at.probe_s(now)
        view = self.memory.at(probe)
        graph = view.scene_graph()
        nodes = [*graph.objects, *graph.rooms]
        if not nodes:
            return Answer(q, None, 'My memory is empty: I have nothing to search yet.', 0.0,
                          (), needs_verification=True)
        texts = [self._describe_node(n, graph) for n in nodes]
        sims = np.asarray(self._score_text(q.text, texts), dtype=float)
        k = max(1, self.params.retrieval_top_k)
        order = np.argsort(-sims)[:k * 2]
        seeds = {nodes[i]: float(math.exp((sims[i] - sims[order[0]]) / 0.05)) for i in order
                 if sims[i] > 0}
        if not seeds:
            return Answer(q, {'kind': 'retrieval', 'results': []},
                          'Nothing I remember matches that.', 0.0, (), needs_verification=True)
        index = self.graph_index(probe) if q.at.is_now else GraphIndex(graph)
        if not all(n in index.index for n in seeds):
            index = GraphIndex(graph)  # the cached index is of another moment
        ppr = index.ppr(seeds)
        # Rank by what the question says (similarity), with the graph spreading it (PPR); a
        # "where can I …" question asks for a place, so rooms and furniture come first on a tie.
        top_ppr = max(ppr.values()) or 1.0
        wants_place = bool(re.match(r'\W*(?:where|which room|is there (?:somewhere|a place))',
                                    q.text.lower()))
        state_of = {graph_node_id(k): s for k, s in view.objects.items()}

        def is_place(node: str) -> bool:
            state = state_of.get(node)
            return node in graph.rooms or (state is not None
                                           and state.mobility in ('furniture', 'static'))

        score = {n: 0.8 * max(float(sims[i]), 0.0) + 0.2 * ppr.get(n, 0.0) / top_ppr
                 + (0.05 if wants_place and is_place(n) else 0.0)
                 for i, n in enumerate(nodes)}
        ranked = sorted(nodes, key=lambda n: -score[n])[:k]
        results: list[dict[str, Any]] = []
        for node in ranked:
            state = state_of.get(node)
            if state is not None:
                results.append({**self._location(state), 'node': node, 'layer': 'object',
                                'score': round(score[node], 4)})
            elif node in graph.rooms:
                results.append({'node': node, 'layer': 'room', 'room': node,
                                'room_name': self.room_name(node), 'label': '',
                                'places': sorted(graph.places_in(node)),
                                'score': round(score[node], 4)})
        best_sim = float(sims[order[0]])
        conf = min(self.params.retrieval_max_confidence, max(best_sim, 0.0))
        names = []
        for r in results:
            if r['layer'] == 'room':
                names.append(f'the {r["room_name"]}')
            else:
                on = r['support_label'].replace('_', ' ')
                names.append(f'the {r["label"].replace("_", " ")} '
                             f'{"on the " + on + " " if on else ""}in the {r["room_name"]}')
        if best_sim < self.params.retrieval_min_similarity:
            text = (f'Nothing I remember fits that well; the closest is {names[0]}.'
                    if names else 'Nothing I remember fits that.')
        else:
            text = f'Best match in memory: {names[0]}' + (
                f'; also {", ".join(names[1:])}' if names[1:] else '') + '.'
        text += ' (This is a search of what I remember, not a fact I observed.)'
        evidence = tuple(self._evidence(state_of[r['node']], 'retrieved')
                         for r in results if r['layer'] == 'object')
        return Answer(q, {'kind': 'retrieval', 'results': results,
                          'best_similarity': round(best_sim, 4)}, text, conf, evidence)

    def _score_text(self, text: str, descriptions: Sequence[str]) -> ArrayLike:
        if self.text_scorer is not None:
            return self.text_scorer(text, descriptions)
        return self.word_overlap(text, descriptions)

    @staticmethod
    def word_overlap(text: str, descriptions: Sequence[str]) -> list[float]:
        """Share of each description's words the text contains (retrieval without an
        embedder: coarse, but it still finds "the sofa" for "where can I sit on the sofa")."""
        words = set(_words(text))
        return [len(words & set(_words(d))) / max(len(set(_words(d))), 1)
                for d in descriptions]

    def graph_index(self, t: float | None = None) -> GraphIndex:
        """A PPR index over the layout plus present objects (rebuilt when memory grew)."""
        key = self.memory.num_events
        if self._index is None or self._index[0] != key:
            t = self.memory.now_s if t is None else t
            self._index = (key, GraphIndex(self.memory.at(t).scene_graph()))
        return self._index[1]


def _words(text: str) -> list[str]:
    return [w.rstrip('s') for w in re.findall(r'[a-z]+', text.lower()) if len(w) > 2]
