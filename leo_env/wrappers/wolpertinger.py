"""Wolpertinger action mapping: the k nearest joint actions to a continuous proto-action.

A joint action picks one candidate per cell.  With a per-cell embedding of the candidates and
a proto-action made of one point per cell, the squared Euclidean distance between the
concatenated proto-action and a joint action's concatenated embedding is the *sum* of per-cell
squared distances.  The k nearest joint actions are therefore the k smallest sums of one entry
per row of a cost matrix, which :func:`k_nearest_actions` finds exactly without enumerating the
``prod_c n_c`` joint actions: every row is sorted, and a best-first search over index vectors
(a heap keyed by the total cost, each vector generated exactly once) pops the k cheapest.

The search tree (rows ordered by their first cost increment ``d[1] - d[0]``, so no move
lowers the total): a state is an index vector whose last non-zero position is ``p``; its
children increment ``idx[p]``, set ``idx[p+1] = 1``, or -- when ``idx[p] == 1`` -- move that 1
from ``p`` to ``p+1``.  Work is O(k (C + log k)) after an O(C n log n) sort.
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["candidate_embedding", "per_cell_costs", "k_nearest_actions", "walk_order", "WolpertingerMapper"]


def candidate_embedding(n: int, kind: str = "onehot") -> np.ndarray:
    """Embedding of the ``n`` candidate slots of a cell, shape (n, d).

    ``"onehot"``: the unit vectors of R^n (a proto-action is a score per candidate).
    ``"scalar"``: evenly spaced points of [-1, 1] (d = 1; neighbouring slots, i.e. satellites
    of similar gain rank, are close).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if kind == "onehot":
        return np.eye(n)
    if kind == "scalar":
        return np.linspace(-1.0, 1.0, n)[:, None] if n > 1 else np.zeros((1, 1))
    raise ValueError(f"kind must be 'onehot' or 'scalar', got {kind!r}")


def per_cell_costs(proto: np.ndarray, embedding: np.ndarray) -> np.ndarray:
    """Squared distances between each cell's proto-action and its candidates' embeddings.

    Parameters
    ----------
    proto : ndarray, shape (C, d)
        Proto-action, one point per cell.
    embedding : ndarray, shape (n, d) or (C, n, d)
        Candidate embeddings (shared by all cells, or per cell).

    Returns
    -------
    ndarray, shape (C, n)
    """
    proto = np.asarray(proto, dtype=float)
    emb = np.asarray(embedding, dtype=float)
    if emb.ndim == 2:
        emb = emb[None]
    if proto.ndim != 2 or emb.shape[-1] != proto.shape[-1]:
        raise ValueError(
            f"proto (C, d) and embedding (..., n, d) disagree: {proto.shape}, {emb.shape}"
        )
    diff = emb - proto[:, None, :]
    return np.einsum("cnd,cnd->cn", diff, diff)


def walk_order(
    costs: np.ndarray, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """The ordering the exact best-first walk of :func:`k_nearest_actions` enumerates in.

    Parameters
    ----------
    costs : ndarray, shape (C, n)
        Per-cell choice costs (finite where allowed).
    allowed : ndarray of bool, shape (C, n)
        Allowed choices, at least one per cell (not checked here).

    Returns
    -------
    sorted_cost, order : ndarray, shape (C, n)
        Each cell's costs in increasing order (masked choices last, at ``inf``) and the
        candidate index of each sorted entry (stable sort: ties keep the candidate order).
    m : ndarray of int, shape (C,)
        Allowed choices per cell.
    pos : ndarray of int, shape (P,)
        The cells with an alternative, by the increment of their second choice (stable).
    base_choice : ndarray of int, shape (C,)
        The cheapest joint action; ``base`` its total cost.
    """
    key = np.where(allowed, costs, np.inf)
    order = np.argsort(key, axis=1, kind="stable")  # per cell, allowed first by cost
    sorted_cost = np.take_along_axis(key, order, axis=1)
    m = allowed.sum(axis=1)
    base_choice = order[:, 0].copy()
    base = float(sorted_cost[:, 0].sum())
    multi = np.flatnonzero(m >= 2)
    delta1 = sorted_cost[multi, 1] - sorted_cost[multi, 0]
    pos = multi[np.argsort(delta1, kind="stable")]
    return sorted_cost, order, m, pos, base_choice, base


def k_nearest_actions(
    costs: np.ndarray, mask: np.ndarray | None = None, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` joint actions with the smallest total cost, cheapest first (exact).

    Parameters
    ----------
    costs : ndarray, shape (C, n)
        Cost of choosing candidate ``j`` for cell ``c`` (e.g. from :func:`per_cell_costs`).
    mask : ndarray of bool, shape (C, n) or (C * n,), optional
        Allowed choices; at least one per cell.
    k : int
        Number of joint actions wanted, >= 1 (fewer are returned when fewer exist).

    Returns
    -------
    actions : ndarray of int, shape (k', C)
        Joint actions (candidate index per cell), distinct, by nondecreasing total cost.
    totals : ndarray, shape (k',)
        Their total costs ``sum_c costs[c, a_c]``.
    """
    costs = np.asarray(costs, dtype=float)
    if costs.ndim != 2:
        raise ValueError(f"costs must have shape (C, n), got {costs.shape}")
    C, n = costs.shape  # noqa: N806
    allowed = (
        np.ones((C, n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool).reshape(C, n)
    )
    if not allowed.any(axis=1).all():
        raise ValueError(f"mask leaves cell {int(np.argmin(allowed.any(axis=1)))} without a choice")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not np.isfinite(costs[allowed]).all():
        raise ValueError(
            "k_nearest_actions: the costs of allowed actions must be finite (a NaN or inf "
            "proto-action would otherwise map to a masked action)"
        )
    sorted_cost, order, m, pos, base_choice, base = walk_order(costs, allowed)
    P = len(pos)  # noqa: N806
    out: list[np.ndarray] = [base_choice]
    if P and k > 1:
        rows = [sorted_cost[c, : m[c]] for c in pos]
        lens = [int(m[c]) for c in pos]
        counter = 0
        first = (0, 1)
        heap: list[tuple[float, int, tuple[tuple[int, int], ...], int]] = [
            (base + rows[0][1] - rows[0][0], counter, (first,), 0)
        ]
        # a state is stored sparsely as ((position, index), ...) for its non-zero positions
        while heap and len(out) < k:
            total, _, nz, p = heapq.heappop(heap)
            choice = base_choice.copy()
            for q, i in nz:
                choice[pos[q]] = order[pos[q], i]
            out.append(choice)
            i_p = nz[-1][1]
            children = []
            if i_p + 1 < lens[p]:
                children.append(
                    (total - rows[p][i_p] + rows[p][i_p + 1], (*nz[:-1], (p, i_p + 1)), p)
                )
            if p + 1 < P:
                inc = rows[p + 1][1] - rows[p + 1][0]
                children.append((total + inc, (*nz, (p + 1, 1)), p + 1))
                if i_p == 1:
                    back = rows[p][1] - rows[p][0]
                    children.append((total - back + inc, (*nz[:-1], (p + 1, 1)), p + 1))
            for t, z, q in children:
                counter += 1
                heapq.heappush(heap, (t, counter, z, q))
    actions = np.stack(out).astype(np.int64)
    totals = costs[np.arange(C)[None, :], actions].sum(axis=1)
    return actions, totals


class WolpertingerMapper:
    """Proto-action -> k nearest allowed joint actions (the action-side half of Wolpertinger).

    Parameters
    ----------
    n_candidates : int
        Candidate list length ``n`` of the environment.
    embedding : {"onehot", "scalar"} or ndarray
        Candidate embedding (see :func:`candidate_embedding`) or an explicit (n, d) array.

    Examples
    --------
    >>> mapper = WolpertingerMapper(3, "scalar")
    >>> proto = np.array([[0.9], [-1.0]])
    >>> mapper(proto, k=2)[0].tolist()
    [[2, 0], [1, 0]]
    """

    def __init__(self, n_candidates: int, embedding: str | np.ndarray = "onehot") -> None:
        self.embedding = (
            candidate_embedding(n_candidates, embedding)
            if isinstance(embedding, str)
            else np.asarray(embedding, dtype=float)
        )
        if self.embedding.shape[0] != n_candidates:
            raise ValueError(f"embedding must have {n_candidates} rows, got {self.embedding.shape}")

    @property
    def dim(self) -> int:
        """Embedding dimension ``d`` per cell."""
        return int(self.embedding.shape[1])

    def __call__(
        self, proto: np.ndarray, mask: np.ndarray | None = None, k: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest allowed joint actions to ``proto`` (C, d) (or flat (C * d,))."""
        proto = np.asarray(proto, dtype=float).reshape(-1, self.dim)
        if not np.isfinite(proto).all():
            raise ValueError(f"proto-action must be finite, got {int((~np.isfinite(proto)).sum())} NaN/inf entries")
        return k_nearest_actions(per_cell_costs(proto, self.embedding), mask, k)
