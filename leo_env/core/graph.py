"""Graph kernels: greedy and exact max-weight matching, batched shortest paths with paths.

* :func:`greedy_matching` -- sort the edges by decreasing weight (stable: ties keep the input
  order) and take an edge whenever both end nodes are still free (numba loop).  The result is a
  maximal matching of weight >= 1/2 of the maximum.
* :func:`exact_matching` -- Edmonds' blossom algorithm in :func:`rustworkx.max_weight_matching`,
  which needs integer weights: weights are scaled to integers below 2**40, and the returned
  ``upper_bound`` adds the largest possible rounding loss, so that it is a certified upper bound
  on the true (real-weight) maximum.
* :func:`shortest_paths` -- :func:`scipy.sparse.csgraph.dijkstra` from the distinct sources of a
  batch of (source, target) pairs, then path extraction to CSR arrays of arc indices (numba).
  Explicit zero costs are edges (SciPy keeps explicit zeros of a sparse matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rustworkx as rx
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import dijkstra

__all__ = [
    "greedy_matching",
    "exact_matching",
    "ExactMatching",
    "ArcGraph",
    "PathBatch",
    "shortest_paths",
]

_INT_SCALE_MAX = float(2**40)


def _edges(n_nodes: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple:
    uu = np.asarray(u, dtype=np.int64)
    vv = np.asarray(v, dtype=np.int64)
    ww = np.asarray(w, dtype=float)
    if not (uu.shape == vv.shape == ww.shape) or uu.ndim != 1:
        raise ValueError("edge_u, edge_v and weight must be 1-D arrays of equal length")
    if uu.size and (min(uu.min(), vv.min()) < 0 or max(uu.max(), vv.max()) >= n_nodes):
        raise ValueError(f"edge end points must be node indices in [0, {n_nodes})")
    if np.any(uu == vv):
        raise ValueError("self-loops are not allowed in a matching graph")
    if not np.all(np.isfinite(ww)):
        raise ValueError("weight must be finite")
    return uu, vv, ww


@njit(cache=True)
def _greedy_kernel(n_nodes, u, v, order, take_nonpositive, w):  # pragma: no cover - numba
    free = np.ones(n_nodes, dtype=np.bool_)
    out = np.zeros(u.shape[0], dtype=np.bool_)
    for k in range(order.shape[0]):
        e = order[k]
        if not take_nonpositive and w[e] <= 0.0:
            break
        a = u[e]
        b = v[e]
        if free[a] and free[b]:
            free[a] = False
            free[b] = False
            out[e] = True
    return out


def greedy_matching(
    n_nodes: int,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    weight: np.ndarray,
    *,
    take_nonpositive: bool = True,
    tiebreak: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy maximal matching in decreasing weight order.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    edge_u, edge_v : ndarray of int, shape (E,)
        End points of each edge (no self-loops).
    weight : ndarray, shape (E,)
        Edge weights (finite).
    take_nonpositive : bool, optional
        Also take edges of weight <= 0 once the positive ones are exhausted (the result is then
        a maximal matching of the whole graph); when False only positive edges are taken.
    tiebreak : ndarray, shape (E,), optional
        Secondary key: among equal weights, larger ``tiebreak`` first (then input order).

    Returns
    -------
    ndarray of bool, shape (E,)
        True for the matched edges.
    """
    u, v, w = _edges(n_nodes, edge_u, edge_v, weight)
    if tiebreak is None:
        order = np.argsort(-w, kind="stable")
    else:
        tb = np.asarray(tiebreak, dtype=float)
        if tb.shape != w.shape or not np.all(np.isfinite(tb)):
            raise ValueError("tiebreak must be finite and have the shape of weight")
        order = np.lexsort((-tb, -w))
    return _greedy_kernel(int(n_nodes), u, v, order, bool(take_nonpositive), w)


@dataclass(frozen=True)
class ExactMatching:
    """Result of :func:`exact_matching`.

    Attributes
    ----------
    matched : ndarray of bool, shape (E,)
        The matching (optimal for the integer-rounded weights).
    weight : float
        Its true (real) weight.
    upper_bound : float
        Certified upper bound on the maximum real weight (>= ``weight``; the difference is the
        worst-case rounding loss, about ``1e-12`` relative).
    """

    matched: np.ndarray
    weight: float
    upper_bound: float


def exact_matching(
    n_nodes: int, edge_u: np.ndarray, edge_v: np.ndarray, weight: np.ndarray
) -> ExactMatching:
    """Maximum-weight matching by Edmonds' blossom algorithm (rustworkx).

    Edges of weight <= 0 never improve a maximum-weight matching and are ignored.  Weights are
    scaled by ``s = 2**40 / max(weight)`` and rounded; if ``M'`` is optimal for the rounded
    weights ``w'`` and ``M*`` for the true ones, ``w(M*) <= w'(M*) + |M*| / (2 s)
    <= w'(M') + (n_nodes / 2) / (2 s)``, which is returned as ``upper_bound``.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    edge_u, edge_v : ndarray of int, shape (E,)
        End points (no parallel edges, no self-loops).
    weight : ndarray, shape (E,)
        Real weights.

    Returns
    -------
    ExactMatching
    """
    u, v, w = _edges(n_nodes, edge_u, edge_v, weight)
    matched = np.zeros(u.shape[0], dtype=bool)
    pos = np.flatnonzero(w > 0.0)
    if pos.size == 0:
        return ExactMatching(matched, 0.0, 0.0)
    scale = _INT_SCALE_MAX / float(w[pos].max())
    w_int = np.rint(w[pos] * scale).astype(np.int64)
    g = rx.PyGraph(multigraph=False)
    g.add_nodes_from(range(int(n_nodes)))
    g.add_edges_from(list(zip(u[pos].tolist(), v[pos].tolist(), range(pos.size), strict=True)))
    w_list = w_int.tolist()
    pairs = rx.max_weight_matching(g, weight_fn=lambda k: w_list[k])
    eid = {}
    for k, (a, b) in enumerate(zip(u[pos].tolist(), v[pos].tolist(), strict=True)):
        eid[(a, b)] = k
        eid[(b, a)] = k
    chosen = np.array([eid[(a, b)] for a, b in pairs], dtype=np.int64)
    matched[pos[chosen]] = True
    real = float(w[matched].sum())
    rounded = float(w_int[chosen].sum()) / scale
    bound = max(real, rounded + 0.25 * n_nodes / scale)
    return ExactMatching(matched, real, bound)


@dataclass(frozen=True, eq=False)
class ArcGraph:
    """Directed graph with fixed structure and changing arc costs (built once per instance).

    Attributes
    ----------
    n_nodes : int
        Number of nodes.
    arc_tail, arc_head : ndarray of int64, shape (A,)
        End points of each arc (at most one arc per ordered node pair).
    """

    n_nodes: int
    arc_tail: np.ndarray
    arc_head: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.arc_tail, dtype=np.int64)
        h = np.asarray(self.arc_head, dtype=np.int64)
        if t.shape != h.shape or t.ndim != 1:
            raise ValueError("arc_tail and arc_head must be 1-D arrays of equal length")
        if t.size and (min(t.min(), h.min()) < 0 or max(t.max(), h.max()) >= self.n_nodes):
            raise ValueError(f"arc end points must be in [0, {self.n_nodes})")
        perm = np.lexsort((h, t))
        key = t[perm] * self.n_nodes + h[perm]
        if np.any(np.diff(key) == 0):
            raise ValueError("at most one arc per ordered node pair is allowed")
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(t, minlength=self.n_nodes), out=indptr[1:])
        object.__setattr__(self, "arc_tail", t)
        object.__setattr__(self, "arc_head", h)
        object.__setattr__(self, "_perm", perm)
        object.__setattr__(self, "_indptr", indptr)
        object.__setattr__(self, "_indices", h[perm].astype(np.int32))

    @property
    def n_arcs(self) -> int:
        """Number of arcs A."""
        return int(self.arc_tail.shape[0])

    def csr(self, cost: np.ndarray, active: np.ndarray | None = None) -> sp.csr_array:
        """Sparse cost matrix; arcs with ``active == False`` are left out."""
        c = np.asarray(cost, dtype=float)
        if c.shape != (self.n_arcs,) or not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ValueError(f"cost must be finite, >= 0 and of shape ({self.n_arcs},)")
        perm = self._perm  # type: ignore[attr-defined]
        if active is None:
            return sp.csr_array(
                (c[perm], self._indices, self._indptr),  # type: ignore[attr-defined]
                shape=(self.n_nodes, self.n_nodes),
            )
        act = np.asarray(active, dtype=bool)[perm]
        t = self.arc_tail[perm][act]
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(t, minlength=self.n_nodes), out=indptr[1:])
        return sp.csr_array(
            (c[perm][act], self._indices[act], indptr),  # type: ignore[attr-defined]
            shape=(self.n_nodes, self.n_nodes),
        )

    def arc_lookup(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (indptr, sorted heads, arc ids) for ``(tail, head) -> arc`` look-ups."""
        perm = self._perm  # type: ignore[attr-defined]
        return self._indptr, self.arc_head[perm], perm.astype(np.int64)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PathBatch:
    """Shortest paths of a batch of (source, target) pairs, as CSR arrays.

    Attributes
    ----------
    dist : ndarray, shape (F,)
        Path cost; ``inf`` when the target is unreachable.
    reachable : ndarray of bool, shape (F,)
        Whether a path exists.
    ptr : ndarray of int64, shape (F + 1,)
        Arcs of pair ``f`` are ``arcs[ptr[f]:ptr[f+1]]``, in order from source to target
        (empty when unreachable or source == target).
    arcs : ndarray of int64
        Arc indices.
    """

    dist: np.ndarray
    reachable: np.ndarray
    ptr: np.ndarray
    arcs: np.ndarray

    def hops(self) -> np.ndarray:
        """Number of arcs of each path, shape (F,)."""
        return np.diff(self.ptr)


@njit(cache=True)
def _extract_paths(pred, src_row, src, dst, indptr, heads, arc_ids):  # pragma: no cover - numba
    n_flows = src.shape[0]
    n_nodes = pred.shape[1]
    lengths = np.zeros(n_flows, dtype=np.int64)
    for f in range(n_flows):
        node = dst[f]
        row = src_row[f]
        steps = 0
        while node != src[f] and node >= 0 and steps <= n_nodes:
            node = pred[row, node]
            steps += 1
        lengths[f] = steps if node == src[f] else -1
    ptr = np.zeros(n_flows + 1, dtype=np.int64)
    for f in range(n_flows):
        ptr[f + 1] = ptr[f] + max(lengths[f], 0)
    arcs = np.empty(ptr[n_flows], dtype=np.int64)
    for f in range(n_flows):
        if lengths[f] <= 0:
            continue
        node = dst[f]
        row = src_row[f]
        k = ptr[f + 1] - 1
        while node != src[f]:
            prev = pred[row, node]
            lo = indptr[prev]
            hi = indptr[prev + 1]
            while lo < hi:  # binary search of `node` among the heads of `prev`
                mid = (lo + hi) // 2
                if heads[mid] < node:
                    lo = mid + 1
                else:
                    hi = mid
            arcs[k] = arc_ids[lo]
            k -= 1
            node = prev
    return lengths, ptr, arcs


def shortest_paths(
    graph: ArcGraph,
    cost: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    *,
    active: np.ndarray | None = None,
) -> PathBatch:
    """Shortest path of every (source, target) pair by Dijkstra from the distinct sources.

    Parameters
    ----------
    graph : ArcGraph
        Structure.
    cost : ndarray, shape (A,)
        Arc costs >= 0.
    src, dst : ndarray of int, shape (F,)
        Sources and targets.
    active : ndarray of bool, shape (A,), optional
        Arcs that may be used (all when omitted).

    Returns
    -------
    PathBatch
    """
    s = np.asarray(src, dtype=np.int64)
    t = np.asarray(dst, dtype=np.int64)
    if s.shape != t.shape or s.ndim != 1:
        raise ValueError("src and dst must be 1-D arrays of equal length")
    if s.size and (min(s.min(), t.min()) < 0 or max(s.max(), t.max()) >= graph.n_nodes):
        raise ValueError(f"src and dst must be node indices in [0, {graph.n_nodes})")
    if s.size == 0:
        z = np.zeros(0)
        return PathBatch(z, z.astype(bool), np.zeros(1, dtype=np.int64), np.zeros(0, np.int64))
    uniq, row = np.unique(s, return_inverse=True)
    mat = graph.csr(cost, active)
    dist_all, pred = dijkstra(mat, directed=True, indices=uniq, return_predecessors=True)
    dist = dist_all[row, t]
    indptr, heads, arc_ids = graph.arc_lookup()
    lengths, ptr, arcs = _extract_paths(
        pred.astype(np.int64), row.astype(np.int64), s, t, indptr, heads, arc_ids
    )
    reachable = lengths >= 0
    dist = np.where(reachable, dist, np.inf)
    return PathBatch(dist, reachable, ptr, arcs)
