"""Personalized PageRank over the scene graph (after HippoRAG).

The graph is turned into a column-stochastic sparse matrix once; each query is a few dozen
sparse mat-vec products from a seed distribution (the entities the question mentions, or the
places an object has been seen), so related rooms, places and objects can be ranked in about a
millisecond.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError

__all__ = ['GraphIndex']


class GraphIndex:
    """A sparse random-walk view of a scene graph for personalized PageRank."""

    def __init__(self, graph: SceneGraph, edge_weights: Mapping[str, float] | None = None,
                 extra_edges: list[tuple[str, str, float]] | None = None) -> None:
        weights = {'contains': 1.0, 'adjacent': 1.0, 'traversable': 1.0, 'supported_by': 2.0,
                   'inside': 2.0, 'near': 0.5, **(edge_weights or {})}
        nodes = sorted({n for layer_nodes in (graph.rooms, graph.places, graph.objects)
                        for n in layer_nodes} | {'building'})
        extra = extra_edges or []
        for a, b, _ in extra:
            nodes.extend(n for n in (a, b) if n not in nodes)
        self.nodes = sorted(set(nodes))
        self.index = {n: i for i, n in enumerate(self.nodes)}
        rows, cols, vals = [], [], []
        for u, v, kind in graph.edges():
            w = weights.get(str(kind), 1.0)
            # Walk both ways: containment and support are meaningful in either direction.
            for a, b in ((u, v), (v, u)):
                rows.append(self.index[b])
                cols.append(self.index[a])
                vals.append(w)
        for a, b, w in extra:
            for x, y in ((a, b), (b, a)):
                rows.append(self.index[y])
                cols.append(self.index[x])
                vals.append(w)
        n = len(self.nodes)
        mat = sparse.csc_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float64)
        mat.sum_duplicates()
        out_weight = np.asarray(mat.sum(axis=0)).ravel()
        out_weight[out_weight == 0] = 1.0
        self._walk = (mat @ sparse.diags(1.0 / out_weight)).tocsr()

    def ppr(self, seeds: Mapping[str, float], damping: float = 0.85, iterations: int = 50,
            tol: float = 1e-9) -> dict[str, float]:
        """Personalized PageRank scores of every node for a seed distribution."""
        if not 0 < damping < 1:
            raise InvalidInputError(f'damping must be in (0, 1), got {damping}')
        known = {n: float(w) for n, w in seeds.items() if n in self.index and w > 0}
        if not known:
            unknown = ', '.join(sorted(seeds)) or 'none'
            raise InvalidInputError(f'no seed is a node of the graph (seeds: {unknown})')
        restart = np.zeros(len(self.nodes))
        for n, w in known.items():
            restart[self.index[n]] = w
        restart /= restart.sum()
        score = restart.copy()
        for _ in range(iterations):
            nxt = (1 - damping) * restart + damping * (self._walk @ score)
            nxt /= nxt.sum()
            if np.abs(nxt - score).sum() < tol:
                score = nxt
                break
            score = nxt
        return {n: float(score[i]) for n, i in self.index.items()}

    def rank(self, seeds: Mapping[str, float], prefix: str, damping: float = 0.85,
             exclude_seeds: bool = False) -> list[tuple[str, float]]:
        """Nodes whose id starts with `prefix` (e.g. 'place:'), best first."""
        scores = self.ppr(seeds, damping)
        items = [(n, s) for n, s in scores.items() if n.startswith(prefix)
                 and not (exclude_seeds and n in seeds)]
        return sorted(items, key=lambda kv: (-kv[1], kv[0]))
