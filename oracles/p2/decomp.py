"""Lagrangian decomposition bound for P2 under the coupled proxy (per-pool integral subsets).

The Dantzig-Wolfe master of :mod:`oracles.p2.colgen` convexifies each cell's paths but keeps
every pool ``sum_c y[s, c, k] <= 1`` as a linear row, so its LP may put a cell on a contested
pool with weight 0.6 and fill the pool to exactly 1 with such fractions.  This module
strengthens the master by giving selected pools ``P = (s, k)`` a *copy* of the association:
a pool chooses an integral subset ``A`` of its *linked* cells with shares ``y`` (a
configuration, ``sum_{c in A} y_c <= 1``, value ``sum_{c in A} log(eps + y_c / w_c)``), and
linking rows equate, for every linked pair ``(c, P)``, the weight of the paths of ``c`` through
``P`` with the weight of the configurations containing ``c``::

    maximise    sum_p v'(p) z_p + sum_q u(q) lambda_q
    subject to  sum_{p of c} z_p = 1                                       (cell c)
                sum_{p unlinked on P} y_k(p) z_p + sum_{q of P} Y(q) lambda_q <= 1   (pool P)
                sum_{q of P} lambda_q <= 1                                  (configured pool P)
                sum_{p of c through P} z_p - sum_{q of P, q contains c} lambda_q = 0   (link c, P)
                z, lambda >= 0

``v'(p)`` is the path's value without the log terms of its linked slots (the configurations
carry them) and ``Y(q) = sum y``.  Any set of links gives a valid relaxation: a linked pair
moves its pool's integrality into the configurations, an unlinked one keeps the
Dantzig-Wolfe row.  Its dual function at pool prices ``pi >= 0`` and link prices ``gamma``::

    L(pi, gamma) = sum_P pi_P + sum_c DP_c(pi, gamma) + sum_{configured P} max(0, KS_P(pi, gamma))

is an upper bound on the coupled optimum for *every* such price vector: ``DP_c`` is the
budgeted path DP with per-slot value ``phi(pi, w)`` on unlinked slots and ``-gamma`` on linked
ones, and ``KS_P`` is a knapsack with concave items, solved exactly by branch and bound
(:func:`_knapsack`; a node limit returns a valid upper bound).  Pricing both column kinds at
the LP duals is column generation for this master; links are added, round by round, for the
cells that the LP places fractionally on a priced pool (:func:`decomposition_bound`).

:func:`hull_cut_bound` brings the same per-pool hull into the Dantzig-Wolfe master as cuts
``sum_c U_c <= alpha . X + alpha0`` (``U_c``: the log utility the master gives cell ``c`` in the
pool, ``X_c``: its weight there), separated from the LP solution and priced in the DP by a
closed form; its master stays as small as the Dantzig-Wolfe one (one row per cut).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import highspy
import numpy as np
from numba import njit

from oracles.p2.colgen import ColumnPool, _handovers, _new_highs
from oracles.p2.dp import _dual_values, _slot_values, dp_paths
from oracles.p2.problem import Problem
from oracles.p2.proxy import _water_level
from oracles.p2.result import relative_gap

__all__ = ["decomposition_bound", "hull_cut_bound", "pool_knapsack"]


@njit(cache=True)
def _item(price: float, w: float, g: float, eps: float) -> tuple[float, float]:
    """``max_{0 <= y <= min(1, w)} log(eps + y / w) - price y + g`` and its maximiser."""
    cap = w if w < 1.0 else 1.0
    if price > 0.0:
        y = 1.0 / price - eps * w
        y = 0.0 if y < 0.0 else (cap if y > cap else y)
    else:
        y = cap
    return np.log(eps + y / w) - price * y + g, y


@njit(cache=True)
def _subset_value(sel: np.ndarray, w: np.ndarray, g: np.ndarray, pi: float, eps: float,
                  y_out: np.ndarray) -> float:
    """Exact value of the subset ``sel`` (bool mask) with capacity 1 at pool price ``pi``."""
    n = 0
    for i in range(w.size):
        if sel[i]:
            n += 1
    if n == 0:
        y_out[:] = 0.0
        return 0.0
    ws = np.empty(n)
    j = 0
    for i in range(w.size):
        if sel[i]:
            ws[j] = w[i]
            j += 1
    t = _water_level(ws, eps)
    if pi > 0.0 and 1.0 / pi < t:
        t = 1.0 / pi
    tot = 0.0
    for i in range(w.size):
        if not sel[i]:
            y_out[i] = 0.0
            continue
        xi = t / w[i] - eps
        xi = 0.0 if xi < 0.0 else (1.0 if xi > 1.0 else xi)
        y = w[i] * xi
        y_out[i] = y
        tot += np.log(eps + xi) - pi * y + g[i]
    return tot


@njit(cache=True)
def _ub_at(nu: float, state: np.ndarray, w: np.ndarray, g: np.ndarray, pi: float, eps: float,
           ybuf: np.ndarray) -> tuple[float, float]:
    """``UB(nu)`` of :func:`_node_bound` and its slope ``1 - sum y``."""
    ub = nu
    ysum = 0.0
    for i in range(w.size):
        if state[i] == 0:
            continue
        v, y = _item(pi + nu, w[i], g[i], eps)
        if state[i] == 1 or v > 0.0:
            ub += v
            ysum += y
        ybuf[i] = y
    return ub, 1.0 - ysum


@njit(cache=True)
def _node_bound(state: np.ndarray, w: np.ndarray, g: np.ndarray, pi: float, eps: float,
                ybuf: np.ndarray) -> tuple[float, float]:
    """Upper bound of a node (state: 1 in, 0 out, -1 free) by relaxing the capacity with ``nu``.

    ``UB(nu) = nu + sum_in h_i(nu) + sum_free max(0, h_i(nu))``, ``h_i(nu)`` the item's best
    value at price ``pi + nu``; convex in ``nu``, minimised by bisection on its slope.  Every
    ``nu >= 0`` gives a valid bound; returns the smallest one met and its ``nu``.
    """
    n = w.size
    ub0, slope0 = _ub_at(0.0, state, w, g, pi, eps, ybuf)
    if slope0 >= 0.0:
        return ub0, 0.0
    best, best_nu = ub0, 0.0
    wmin = np.inf
    for i in range(n):
        if state[i] != 0 and w[i] < wmin:
            wmin = w[i]
    base = pi if pi > 0.0 else 1e-12
    lo = base
    hi = max(2.0 * base, 1.0 / (eps * wmin))
    for _ in range(80):
        mid = np.sqrt(lo * hi)
        ub, slope = _ub_at(mid - pi if mid > pi else 0.0, state, w, g, pi, eps, ybuf)
        if ub < best:
            best, best_nu = ub, mid - pi if mid > pi else 0.0
        if slope < 0.0:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1.0 + 1e-12:
            break
    return best, best_nu


@njit(cache=True)
def _knapsack(w: np.ndarray, g: np.ndarray, pi: float, eps: float, max_nodes: int
              ) -> tuple[float, float, np.ndarray, np.ndarray, int]:
    """Exact ``max_{A, y} sum_{i in A} log(eps + y_i / w_i) - pi y_i + g_i``, ``sum y <= 1``.

    Depth-first branch and bound with the capacity-relaxation bound of :func:`_node_bound`.

    Returns
    -------
    ub : float
        Upper bound (equal to ``best`` when the search finished within ``max_nodes``).
    best : float
        Value of the best subset found (>= 0: the empty subset).
    sel : ndarray of bool
        Best subset.
    y : ndarray
        Its shares.
    nodes : int
        Nodes explored.
    """
    n = w.size
    state0 = np.full(n, -1, np.int8)
    ybuf = np.zeros(n)
    for i in range(n):
        v, _ = _item(pi, w[i], g[i], eps)
        if v <= 0.0:
            state0[i] = 0  # adding the item can never pay (prices only lower it)
    best = 0.0
    best_sel = np.zeros(n, np.bool_)
    best_y = np.zeros(n)
    ytmp = np.zeros(n)
    stack = np.empty((2 * n + 2, n), np.int8)
    stack_ub = np.empty(2 * n + 2)
    top = 0
    stack[0] = state0
    stack_ub[0] = np.inf
    top = 1
    nodes = 0
    open_ub = -np.inf
    while top > 0:
        top -= 1
        state = stack[top].copy()
        if stack_ub[top] <= best + 1e-12:
            continue
        if nodes >= max_nodes:
            if stack_ub[top] > open_ub:
                open_ub = stack_ub[top]
            continue
        nodes += 1
        ub, nu = _node_bound(state, w, g, pi, eps, ybuf)
        if ub <= best + 1e-12:
            continue
        # heuristic completion: fixed-in items plus the free items worth their price at nu
        sel = np.zeros(n, np.bool_)
        branch = -1
        ymax = -1.0
        for i in range(n):
            if state[i] == 1:
                sel[i] = True
            elif state[i] == -1:
                v, y = _item(pi + nu, w[i], g[i], eps)
                if v > 0.0:
                    sel[i] = True
                    if y > ymax:
                        ymax, branch = y, i
                elif branch < 0 and ymax < 0.0:
                    branch = i
        val = _subset_value(sel, w, g, pi, eps, ytmp)
        if val > best:
            best = val
            best_sel[:] = sel
            best_y[:] = ytmp
        if branch < 0 or ub <= best + 1e-12:
            continue
        # children: out first on the stack, so "in" is explored first
        stack[top] = state
        stack[top, branch] = 0
        stack_ub[top] = ub
        top += 1
        stack[top] = state
        stack[top, branch] = 1
        stack_ub[top] = ub
        top += 1
    ub_all = best if open_ub < best else open_ub
    return ub_all, best, best_sel, best_y, nodes


def pool_knapsack(w: np.ndarray, gain: np.ndarray, price: float, eps: float,
                  max_nodes: int = 20000) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Best configuration of one pool: ``max_{A, y} sum_{c in A} log(eps + y_c / w_c) - price y_c + gain_c``.

    Subject to ``sum_{c in A} y_c <= 1``, ``0 <= y_c <= min(1, w_c)``; the empty subset is
    allowed (value 0).

    Parameters
    ----------
    w : ndarray, shape (n,)
        Share each cell needs to be fully served, finite and > 0.
    gain : ndarray, shape (n,)
        Value of putting the cell in the subset (link prices), finite.
    price : float
        Pool price (>= 0) charged per unit share.
    eps : float
        Utility offset.
    max_nodes : int
        Branch-and-bound node limit.

    Returns
    -------
    upper : float
        Upper bound on the optimum (equal to ``value`` when the search finished).
    value : float
        Value of the returned subset.
    subset : ndarray of bool, shape (n,)
    y : ndarray, shape (n,)
        Shares of the subset.
    """
    w = np.ascontiguousarray(w, dtype=float)
    gain = np.ascontiguousarray(gain, dtype=float)
    if w.ndim != 1 or gain.shape != w.shape:
        raise ValueError("w and gain must be 1-D arrays of the same length")
    if np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("w must be finite and > 0")
    if np.any(~np.isfinite(gain)):
        raise ValueError("gain must be finite")
    if not (np.isfinite(price) and price >= 0):
        raise ValueError(f"price must be finite and >= 0, got {price}")
    ub, best, sel, y, _ = _knapsack(w, gain, float(price), float(eps), int(max_nodes))
    return float(ub), float(best), sel, y


class _Master:
    """The decomposition master (rebuilt from its column lists whenever links are added)."""

    def __init__(self, problem: Problem, pool: ColumnPool, threads: int | None) -> None:
        p = problem
        self.p = p
        self.pool = pool
        self.threads = threads
        self.SK = p.S * p.K
        self.link_row = np.full(p.C * self.SK, -1, np.int64)  # (c * SK + P) -> link index
        self.links: list[tuple[int, int]] = []
        self.conf_of: dict[int, int] = {}  # pool -> configured index
        self.conf_pools: list[int] = []
        self.pool_cells: list[list[int]] = []  # per configured pool: linked cells
        # configuration columns: pool, cells, shares, value
        self.cfg_pool: list[int] = []
        self.cfg_cells: list[np.ndarray] = []
        self.cfg_y: list[np.ndarray] = []
        self.cfg_val: list[float] = []
        self._cfg_seen: set[bytes] = set()
        kk = np.arange(p.K)
        self.kk = kk
        self._util: list[np.ndarray] = []
        self.h: highspy.Highs | None = None
        self.n_path_cols = 0
        self.n_cfg_cols = 0
        self.col_kind: list[int] = []  # per HiGHS column: path id j >= 0, config -(q+1), slack -10**12
        self.box_center = np.zeros(0)
        self.highs_options: dict = {}
        self.box_delta = np.inf
        self._arcs: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0, np.int64),) * 3

    # -- columns -------------------------------------------------------------------------
    def _path_util(self, j: int) -> np.ndarray:
        while len(self._util) <= j:
            i = len(self._util)
            p = self.p
            c, pc, yc = self.pool.cell[i], self.pool.path[i], self.pool.y[i]
            wc = p.w[c, pc, self.kk]
            with np.errstate(divide="ignore", invalid="ignore"):
                u = np.where(wc == 0.0, 0.0, np.where(np.isinf(wc), np.log(p.eps),
                             np.log(p.eps + np.where(wc > 0, yc / np.where(wc > 0, wc, 1.0), 0.0))))
            self._util.append(u)
        return self._util[j]

    def _path_col(self, j: int) -> tuple[float, np.ndarray, np.ndarray]:
        p = self.p
        c, pc, yc = self.pool.cell[j], self.pool.path[j], self.pool.y[j]
        P = p.cand[c, pc] * p.K + self.kk  # noqa: N806
        lr = self.link_row[c * self.SK + P]
        util = self._path_util(j)
        hcount = _handovers(pc[None, :], p.init_l[c:c + 1])[0]
        cost = -p.lambda_h * hcount + float(util[lr < 0].sum())
        unl = (lr < 0) & (yc > 0)
        nlink_base = p.C + self.SK + len(self.conf_pools)
        idx = np.concatenate([[c], p.C + P[unl], nlink_base + lr[lr >= 0]])
        val = np.concatenate([[1.0], yc[unl], np.ones(int((lr >= 0).sum()))])
        return cost, idx, val

    def _cfg_col(self, q: int) -> tuple[float, np.ndarray, np.ndarray]:
        p = self.p
        P = self.cfg_pool[q]  # noqa: N806
        ci = self.conf_of[P]
        cells = self.cfg_cells[q]
        ysum = float(self.cfg_y[q].sum())
        nlink_base = p.C + self.SK + len(self.conf_pools)
        lr = self.link_row[cells * self.SK + P]
        idx = [p.C + self.SK + ci]
        val = [1.0]
        if ysum > 0:
            idx.append(p.C + P)
            val.append(ysum)
        return self.cfg_val[q], np.concatenate([idx, nlink_base + lr]), np.concatenate([val, -np.ones(cells.size)])

    def _add(self, cols: list[tuple[float, np.ndarray, np.ndarray]], kinds: list[int]) -> None:
        if not cols or self.h is None:
            return
        self.col_kind.extend(kinds)
        starts, idx, val, cost = [], [], [], []
        nnz = 0
        for co, ix, va in cols:
            starts.append(nnz)
            idx.append(ix)
            val.append(va)
            cost.append(co)
            nnz += ix.size
        n = len(cols)
        self.h.addCols(n, np.asarray(cost), np.zeros(n), np.ones(n), nnz, np.asarray(starts, np.int32),
                       np.concatenate(idx).astype(np.int32), np.concatenate(val))

    def add_config(self, P: int, cells: np.ndarray, y: np.ndarray) -> bool:  # noqa: N803
        """Add a configuration of pool ``P`` (cells must be linked to it); False if known."""
        p = self.p
        order = np.argsort(cells)
        cells = np.asarray(cells, np.int64)[order]
        y = np.round(np.asarray(y, float)[order], 12)
        key = int(P).to_bytes(8, "little") + cells.tobytes() + y.tobytes()
        if key in self._cfg_seen:
            return False
        self._cfg_seen.add(key)
        k = P % p.K
        s = P // p.K
        wv = np.empty(cells.size)
        for i, c in enumerate(cells):
            li = np.nonzero(p.cand[c] == s)[0][0]
            wv[i] = p.w[c, li, k]
        self.cfg_pool.append(int(P))
        self.cfg_cells.append(cells)
        self.cfg_y.append(y)
        self.cfg_val.append(float(np.log(p.eps + y / wv).sum()))
        if self.h is not None:
            self._add([self._cfg_col(len(self.cfg_pool) - 1)], [-len(self.cfg_pool)])
            self.n_cfg_cols += 1
        return True

    def add_paths(self, ids: np.ndarray) -> None:
        self._add([self._path_col(int(j)) for j in ids], [int(j) for j in ids])
        self.n_path_cols += len(ids)

    # -- links and rebuild -----------------------------------------------------------------
    def add_links(self, pairs: list[tuple[int, int]]) -> int:
        """Link cells to pools (pairs ``(c, P)``); returns the number of new links."""
        new = 0
        for c, P in pairs:  # noqa: N806
            key = c * self.SK + P
            if self.link_row[key] >= 0:
                continue
            if P not in self.conf_of:
                self.conf_of[P] = len(self.conf_pools)
                self.conf_pools.append(P)
                self.pool_cells.append([])
            self.link_row[key] = len(self.links)
            self.links.append((c, P))
            self.pool_cells[self.conf_of[P]].append(c)
            new += 1
        return new

    def link_arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate-view indices (cell, candidate, slot) of the links, in link order."""
        p = self.p
        if len(self._arcs[0]) != len(self.links):
            lc = np.asarray([c for c, _ in self.links], np.int64)
            lP = np.asarray([P for _, P in self.links], np.int64)  # noqa: N806
            ll = np.argmax(p.cand[lc] == (lP // p.K)[:, None], axis=1)
            self._arcs = (lc, ll, lP % p.K)
        return self._arcs

    def build(self) -> None:
        p = self.p
        h = _new_highs(self.threads)
        for key, val in self.highs_options.items():
            h.setOptionValue(key, val)
        inf = highspy.kHighsInf
        nconf, nlink = len(self.conf_pools), len(self.links)
        lo = np.concatenate([np.ones(p.C), np.full(self.SK + nconf, -inf), np.zeros(nlink)])
        hi = np.concatenate([np.ones(p.C + self.SK + nconf), np.zeros(nlink)])
        h.addRows(lo.size, lo, hi, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h
        self.col_kind = [-(10**12)] * (2 * nlink)
        if nlink:
            # box stabilisation: slacks s+ / s- on every link row keep its dual within
            # box_center +- box_delta (their costs are set by set_box)
            rows = (p.C + self.SK + nconf + np.arange(nlink)).astype(np.int32)
            h.addCols(2 * nlink, np.zeros(2 * nlink), np.zeros(2 * nlink), np.full(2 * nlink, inf), 2 * nlink,
                      np.arange(2 * nlink, dtype=np.int32), np.concatenate([rows, rows]),
                      np.concatenate([np.ones(nlink), -np.ones(nlink)]))
            self.set_box(np.concatenate([self.box_center, np.zeros(nlink - self.box_center.size)]), self.box_delta)
        self._add([self._path_col(j) for j in range(len(self.pool))], list(range(len(self.pool))))
        self.n_path_cols = len(self.pool)
        self._add([self._cfg_col(q) for q in range(len(self.cfg_pool))], [-(q + 1) for q in range(len(self.cfg_pool))])
        self.n_cfg_cols = len(self.cfg_pool)

    def set_box(self, center: np.ndarray, delta: float) -> None:
        """Keep the link duals within ``center +- delta`` (``delta = inf``: no box)."""
        self.box_center = np.asarray(center, float).copy()
        self.box_delta = float(delta)
        n = len(self.links)
        if n == 0 or self.h is None:
            return
        big = 1e6
        d = min(delta, big)
        cost = np.concatenate([center - d, -(center + d)])
        if not np.isfinite(delta):
            cost = np.concatenate([np.full(n, -big), np.full(n, -big)])
        self.h.changeColsCost(2 * n, np.arange(2 * n, dtype=np.int32), cost)

    def slack_active(self, x: np.ndarray) -> bool:
        """Whether any stabilisation slack is non-zero in the LP solution ``x``."""
        return bool(np.any(x[:2 * len(self.links)] > 1e-9))


def _config_from_path(master: _Master, path_l: np.ndarray) -> None:
    """Add, for every configured pool, the configuration that ``path_l`` induces on it."""
    p = master.p
    C, K = p.C, p.K  # noqa: N806
    kk = np.arange(K)
    sat = p.cand[np.arange(C)[:, None], path_l]
    wv = p.w[np.arange(C)[:, None], path_l, kk[None, :]]
    for P in master.conf_pools:  # noqa: N806
        s, k = divmod(P, K)
        on = np.nonzero(sat[:, k] == s)[0]
        on = on[(wv[on, k] > 0) & np.isfinite(wv[on, k])]
        if on.size == 0:
            continue
        t = _water_level(np.ascontiguousarray(wv[on, k]), p.eps)
        y = wv[on, k] * np.clip(t / wv[on, k] - p.eps, 0.0, 1.0)
        linked = master.link_row[on * master.SK + P] >= 0
        if linked.any():
            master.add_config(P, on[linked], y[linked])


def _lagrangian(
    m: _Master, pi: np.ndarray, gamma: np.ndarray, max_nodes: int,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]:
    """``L(pi, gamma)``, the DP paths, their values and shares, and each pool's best configuration."""
    p = m.p
    C, K, SK = p.C, p.K, m.SK  # noqa: N806
    w = np.ascontiguousarray(p.w)
    phi, ys = _dual_values(np.ascontiguousarray(pi), p.cand, w, np.ascontiguousarray(p.vis), float(p.eps))
    if m.links:
        lc, ll, lk = m.link_arcs()
        phi[lc, ll, lk] = -gamma
        ys[lc, ll, lk] = 0.0
    path, vals, _ = dp_paths(p, phi)
    bound = float(pi.sum() + vals.sum())
    y = ys[np.arange(C)[:, None], np.maximum(path, 0), np.arange(K)[None, :]]
    cfgs: list[tuple[int, np.ndarray, np.ndarray]] = []
    for ci, P in enumerate(m.conf_pools):  # noqa: N806
        cells = np.asarray(m.pool_cells[ci], np.int64)
        s, k = divmod(P, K)
        li = np.argmax(p.cand[cells] == s, axis=1)
        wv = w[cells, li, k]
        g = gamma[m.link_row[cells * SK + P]]
        ok = (wv > 0) & np.isfinite(wv)
        # zero-demand / no-rate linked cells: constant value, no share
        const = np.where(wv == 0, 0.0, np.log(p.eps)) + g
        take = ~ok & (const > 0)
        extra = float(const[take].sum())
        ub, val, sel, yk, _ = _knapsack(np.ascontiguousarray(wv[ok]), np.ascontiguousarray(g[ok]),
                                        float(pi[s, k]), float(p.eps), int(max_nodes))
        bound += max(0.0, ub + extra)
        if val + extra > 0.0:
            cfgs.append((P, np.concatenate([cells[ok][sel], cells[take]]),
                         np.concatenate([yk[sel], np.zeros(int(take.sum()))])))
    return bound, path, vals, y, cfgs


def _argmax_path(pool: ColumnPool, x: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """Association of the heaviest master column of every cell (``-1`` rows: no column)."""
    p = pool.problem
    n = min(len(pool), x.size) if ids is None else len(ids)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    cells = np.asarray(pool.cell)[ids[:n]]
    xv = np.asarray(x)[:n] if ids is None else np.asarray(x)
    path = np.full((p.C, p.K), -1, np.int64)
    order = np.lexsort((-xv, cells))
    first = np.ones(order.size, bool)
    first[1:] = cells[order][1:] != cells[order][:-1]
    for i in order[first]:
        path[cells[i]] = pool.path[int(ids[i])]
    return path


def _natural_gamma(m: _Master, pi: np.ndarray) -> np.ndarray:
    """Link prices that leave ``L`` at its Dantzig-Wolfe value: ``gamma = -phi(pi, w)``."""
    p = m.p
    phi, _ = _dual_values(np.ascontiguousarray(pi), p.cand, np.ascontiguousarray(p.w),
                          np.ascontiguousarray(p.vis), float(p.eps))
    lc, ll, lk = m.link_arcs()
    return -phi[lc, ll, lk]


def decomposition_bound(
    problem: Problem,
    pool: ColumnPool,
    start_path: np.ndarray,
    *,
    max_rounds: int = 400,
    time_limit: float = np.inf,
    tol: float = 1e-6,
    smoothing: float = 0.0,
    box_delta: float = 0.5,
    threads: int | None = 1,
    max_nodes: int = 5000,
    on_path: Callable[[np.ndarray], float] | None = None,
    gap_tol: float = 0.0,
    highs_options: dict | None = None,
    rebuild: bool = True,
    pools: set[int] | None = None,
    verbose: bool = False,
) -> dict:
    """Lagrangian-decomposition bound by column generation with per-pool configurations.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    pool : ColumnPool
        Path columns (e.g. those of :func:`oracles.p2.colgen.column_generation`); must contain
        the columns of ``start_path``.  New columns are appended.
    start_path : ndarray of int, shape (C, K)
        A feasible association (keeps the master feasible after links are added).
    max_rounds : int
        Pricing rounds (one LP solve, one DP sweep and one knapsack per configured pool each).
    time_limit : float
        Wall-clock limit [s], checked after each round.
    tol : float
        Reduced-cost tolerance.
    smoothing : float
        Wentges dual smoothing in [0, 1): columns are priced at
        ``smoothing * centre + (1 - smoothing) * LP duals``, the centre being the prices of the
        best bound so far (a round that finds no improving column is repeated at the LP duals).
    box_delta : float
        Box stabilisation of the link duals: the LP keeps them within ``box_delta`` of the
        prices of the best bound so far (slack columns on the link rows); the box grows
        fourfold whenever column generation stalls with a slack in use.
    threads : int or None
        HiGHS threads.
    max_nodes : int
        Knapsack branch-and-bound node limit (a limit reached still gives a valid bound).
    on_path : callable, optional
        Called with every pricing association; returns the best primal objective known.
    gap_tol : float
        Stop when ``relative_gap(bound, best primal) <= gap_tol``.
    highs_options : dict, optional
        Extra HiGHS options for the master LP (e.g. ``{"solver": "ipm", "run_crossover": "off"}``).
    rebuild : bool
        Rebuild the master LP every round instead of adding columns to it (on
        ``europe-starlink`` warm re-solves were no faster than cold ones).
    pools : set of int, optional
        Only these pools (``s * K + k``) may be linked (default: every priced pool).
    verbose : bool
        Print one line per round.

    Returns
    -------
    dict
        ``bound`` (best ``L(pi, gamma)``: a valid upper bound on the coupled optimum),
        ``lp_value``, ``rounds``, ``links``, ``configured_pools``, ``converged`` (no column
        prices out and no link to add), ``history`` (bound per round), ``time_s``.
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    t0 = time.perf_counter()
    p = problem
    C, K, S = p.C, p.K, p.S  # noqa: N806
    SK = S * K  # noqa: N806
    m = _Master(p, pool, threads)
    m.highs_options = dict(highs_options or {})
    m.build()
    best_bound = np.inf
    c_pi: np.ndarray | None = None
    c_gamma = np.zeros(0)
    history: list[float] = []
    lp_value = -np.inf
    converged = False
    exact_next = False
    delta = float(box_delta)
    r = 0
    for r in range(1, max_rounds + 1):  # noqa: B007
        t_round = time.perf_counter()
        if rebuild and r > 1:
            m.build()
        h = m.h
        assert h is not None
        h.run()
        lp_value = h.getInfo().objective_function_value
        if verbose:
            print("  simplex iterations", h.getInfo().simplex_iteration_count, "ipm", h.getInfo().ipm_iteration_count,
                  h.modelStatusToString(h.getModelStatus()), flush=True)
        sol = h.getSolution()
        dual = np.asarray(sol.row_dual)
        nconf = len(m.conf_pools)
        if on_path is not None:
            kinds = np.asarray(m.col_kind)
            xv = np.asarray(sol.col_value)
            sel = np.nonzero(kinds[:xv.size] >= 0)[0]
            ap = _argmax_path(pool, xv[sel], kinds[sel])
            if np.all(ap[:, 0] >= 0):
                on_path(ap)
        lp_pi = np.maximum(0.0, dual[C:C + SK].reshape(S, K))
        lp_gamma = dual[C + SK + nconf:]
        if c_pi is None:
            c_pi = lp_pi
        if c_gamma.size < lp_gamma.size:
            c_gamma = np.concatenate([c_gamma, _natural_gamma(m, c_pi)[c_gamma.size:]])
        a = 0.0 if exact_next else smoothing
        pi_s = a * c_pi + (1.0 - a) * lp_pi
        gamma_s = a * c_gamma + (1.0 - a) * lp_gamma
        t_lp = time.perf_counter() - t_round
        bound, path, _vals, y, cfgs = _lagrangian(m, pi_s, gamma_s, max_nodes)
        t_pr = time.perf_counter() - t_round - t_lp
        history.append(bound)
        if bound < best_bound:
            best_bound, c_pi, c_gamma = bound, pi_s, gamma_s
            m.set_box(c_gamma, delta)
        if on_path is not None and np.all(path[:, 0] >= 0):
            primal = on_path(path)
            if relative_gap(best_bound, primal) <= gap_tol:
                break
        # new columns, kept when they price out at the LP duals
        ok_c = np.nonzero(path[:, 0] >= 0)[0]
        new = pool.add(path, y, ok_c)
        m.add_paths(new)
        improving = 0
        for j in new:
            cost, idx, val = m._path_col(int(j))
            improving += cost - float(dual[idx] @ val) > tol
        for P, cells, ysel in cfgs:  # noqa: N806
            if m.add_config(P, cells, ysel):
                cost, idx, val = m._cfg_col(len(m.cfg_pool) - 1)
                improving += cost - float(dual[idx] @ val) > tol
        if verbose:
            print(f"round {r}: lp {lp_value:.4f} bound {bound:.4f} best {best_bound:.4f} a {a:.2f} "
                  f"improving {improving} links {len(m.links)} cfg {len(m.cfg_pool)} cols {len(pool)} "
                  f"delta {delta:.3g} lp/pricing {t_lp:.1f}/{t_pr:.1f} s t {time.perf_counter() - t0:.1f}", flush=True)
        if improving:
            exact_next = False
        elif a > 0.0:
            exact_next = True  # mispricing: repeat at the LP duals
        elif m.slack_active(np.asarray(sol.col_value)) and delta < 1e5:
            exact_next = False
            delta *= 4.0
            m.set_box(c_gamma, delta)
        else:
            exact_next = False
            pairs = _fractional_links(m, np.asarray(sol.col_value), lp_pi)
            if pools is not None:
                pairs = [(c, P) for c, P in pairs if P in pools]
            if m.add_links(pairs) > 0:
                c_gamma = np.concatenate([c_gamma, _natural_gamma(m, c_pi)[c_gamma.size:]])
                delta = box_delta
                m.box_center, m.box_delta = c_gamma, delta
                _config_from_path(m, start_path)
                m.build()
            else:
                converged = True
                break
        if time.perf_counter() - t0 > time_limit:
            break
    return {"bound": best_bound, "lp_value": lp_value, "rounds": r, "links": len(m.links),
            "configured_pools": len(m.conf_pools), "configurations": len(m.cfg_pool),
            "converged": converged, "history": history, "time_s": time.perf_counter() - t0}


def _fractional_links(m: _Master, x: np.ndarray, pi: np.ndarray) -> list[tuple[int, int]]:
    """(cell, pool) pairs to link: every cell on a priced pool that holds a fractional cell."""
    p = m.p
    K = p.K  # noqa: N806
    SK = m.SK  # noqa: N806
    acc: dict[int, float] = {}
    kinds = np.asarray(m.col_kind)[:x.size]
    for i in np.nonzero((x > 1e-9) & (kinds >= 0))[0]:
        j = int(kinds[i])
        c, pc = m.pool.cell[j], m.pool.path[j]
        P = p.cand[c, pc] * K + m.kk  # noqa: N806
        wc = p.w[c, pc, m.kk]
        ok = (m.link_row[c * SK + P] < 0) & (wc > 0) & np.isfinite(wc) & (pi.ravel()[P] > 1e-9)
        for q in P[ok]:
            key = c * SK + int(q)
            acc[key] = acc.get(key, 0.0) + float(x[i])
    frac_pools = {key % SK for key, v in acc.items() if 1e-6 < v < 1 - 1e-6}
    return [(key // SK, key % SK) for key in sorted(acc) if key % SK in frac_pools]


# ---------------------------------------------------------------------------------------------
# Pool-hull cuts in the Dantzig-Wolfe master (compact alternative to the decomposition master)
# ---------------------------------------------------------------------------------------------


def _hull_cut(w: np.ndarray, X: np.ndarray, ulog: float, eps: float, max_iter: int = 400,  # noqa: N803
              max_nodes: int = 5000) -> tuple[np.ndarray, float, float] | None:
    """Most violated pool-hull inequality ``sum_c U_c <= alpha . X + alpha0`` for weights ``X``.

    ``U_c`` is the log utility the master gives cell ``c`` in the pool and ``X_c`` its weight
    there; the inequality is valid for every integral solution when
    ``alpha0 >= max_A [U(A) - alpha(A)]`` over subsets ``A`` of the cells (``U(A)``: their
    water-filling utility alone in the pool), which the knapsack computes exactly.  ``alpha``
    comes from the dual of ``max sum_A lam_A U(A)`` s.t. ``sum_A lam_A 1_A = X``, ``sum lam
    = 1`` over a growing family of subsets (Kelley's cutting planes, the knapsack as oracle).
    Returns ``(alpha, alpha0, violation)`` or None.
    """
    n = w.size
    zero = np.zeros(n)
    buf = np.zeros(n)
    h = _new_highs(1)
    h.addRows(n + 1, np.concatenate([X, [1.0]]), np.concatenate([X, [1.0]]), 0,
              np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    seen: set[bytes] = set()

    def add(sel: np.ndarray) -> None:
        seen.add(sel.tobytes())
        rows = np.concatenate([np.nonzero(sel)[0], [n]]).astype(np.int32)
        h.addCol(float(_subset_value(sel, w, zero, 0.0, eps, buf)), 0.0, highspy.kHighsInf, rows.size,
                 rows, np.ones(rows.size))

    order = np.argsort(-X, kind="stable")
    add(np.zeros(n, bool))
    for i in range(n):
        sel = np.zeros(n, bool)
        sel[order[:i + 1]] = True
        add(sel)
    alpha = np.zeros(n)
    alpha0 = np.inf
    for _ in range(max_iter):
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        dual = np.asarray(h.getSolution().row_dual)
        alpha, a0_lp = dual[:n], float(dual[n])
        ub, best, sel, _y, _ = _knapsack(w, -alpha, 0.0, eps, max_nodes)
        alpha0 = ub
        if best <= a0_lp + 1e-9 or sel.tobytes() in seen:
            break
        add(sel)
    viol = ulog - (float(alpha @ X) + alpha0)
    return alpha, alpha0, viol


def hull_cut_bound(
    problem: Problem,
    pool: ColumnPool,
    *,
    max_rounds: int = 200,
    time_limit: float = np.inf,
    tol: float = 1e-6,
    min_violation: float = 1e-4,
    max_cuts_per_round: int = 400,
    max_cell_set: int = 16,
    priced_only: bool = False,
    sep_time: float = np.inf,
    threads: int | None = 1,
    on_path: Callable[[np.ndarray], float] | None = None,
    gap_tol: float = 0.0,
    verbose: bool = False,
) -> dict:
    """Dantzig-Wolfe master with pool-hull cuts, separated from its LP solution and priced by the DP.

    Rounds alternate column generation (the per-slot value of a cell in a cut's pool becomes
    ``(1 - sigma) log(eps + y / w) - pi y + sigma alpha_c``, still a closed form) with the
    separation of :func:`_hull_cut` in the pools that the LP fills fractionally (separation
    runs when no column prices out).  The dual value ``sum pi + sum sigma alpha0 + sum_c DP_c``
    is a valid upper bound for all ``pi, sigma >= 0``; the best one met is returned.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    pool : ColumnPool
        Initial columns admitting a feasible master (new columns are appended).
    max_rounds : int
        Rounds (one LP solve and one DP sweep each, plus a separation when converged).
    time_limit : float
        Wall-clock limit [s], checked after each round.
    tol : float
        Reduced-cost tolerance.
    min_violation : float
        Smallest violation of a cut that is added.
    max_cuts_per_round : int
        Most violated cuts added per separation.
    max_cell_set : int
        Pools with more cells in the LP support are not separated (the hull LP grows with them).
    priced_only : bool
        Separate only pools with a positive price.
    sep_time : float
        Wall-clock limit of one separation [s].
    threads : int or None
        HiGHS threads.
    on_path : callable, optional
        Called with every pricing association and the LP's heaviest column per cell; returns
        the best primal objective known.
    gap_tol : float
        Stop when ``relative_gap(bound, best primal) <= gap_tol``.
    verbose : bool
        Print one line per round.

    Returns
    -------
    dict
        ``bound``, ``lp_value``, ``rounds``, ``cuts``, ``converged``, ``history``, ``time_s``.
    """
    t0 = time.perf_counter()
    p = problem
    C, K, S = p.C, p.K, p.S  # noqa: N806
    SK = S * K  # noqa: N806
    kk = np.arange(K)
    w = np.ascontiguousarray(p.w)
    vis = np.ascontiguousarray(p.vis)
    h = _new_highs(threads)
    inf = highspy.kHighsInf
    h.addRows(C + SK, np.concatenate([np.ones(C), np.full(SK, -inf)]), np.ones(C + SK), 0,
              np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    cuts: list[tuple[int, np.ndarray, np.ndarray, float]] = []  # pool, cells, alpha, alpha0
    cut_of_cell: dict[tuple[int, int], list[tuple[int, float]]] = {}  # (c, P) -> [(cut, alpha_c)]
    util: list[np.ndarray] = []
    ncols = 0

    def col_util(j: int) -> np.ndarray:
        while len(util) <= j:
            i = len(util)
            c, pc, yc = pool.cell[i], pool.path[i], pool.y[i]
            wc = p.w[c, pc, kk]
            with np.errstate(divide="ignore", invalid="ignore"):
                util.append(np.where(wc == 0.0, 0.0, np.where(np.isinf(wc), np.log(p.eps),
                                     np.log(p.eps + np.where(wc > 0, yc / np.where(wc > 0, wc, 1.0), 0.0)))))
        return util[j]

    def add_cols(ids: np.ndarray) -> None:
        nonlocal ncols
        if len(ids) == 0:
            return
        starts, idx, val = pool.sparse(ids)
        # cut entries
        extra_idx: list[list[int]] = []
        extra_val: list[list[float]] = []
        for j in ids:
            c, pc = pool.cell[j], pool.path[j]
            P = p.cand[c, pc] * K + kk  # noqa: N806
            u = col_util(int(j))
            ei: list[int] = []
            ev: list[float] = []
            for k in range(K):
                for q, a in cut_of_cell.get((c, int(P[k])), ()):
                    ei.append(C + SK + q)
                    ev.append(float(u[k] - a))
            extra_idx.append(ei)
            extra_val.append(ev)
        ends = np.concatenate([starts[1:], [idx.size]])
        s2, i2, v2 = [], [], []
        n = 0
        for t in range(len(ids)):
            s2.append(n)
            seg_i = np.concatenate([idx[starts[t]:ends[t]], np.asarray(extra_idx[t], np.int32)])
            seg_v = np.concatenate([val[starts[t]:ends[t]], np.asarray(extra_val[t])])
            i2.append(seg_i)
            v2.append(seg_v)
            n += seg_i.size
        cost = np.asarray([pool.value[j] for j in ids])
        h.addCols(len(ids), cost, np.zeros(len(ids)), np.ones(len(ids)), n, np.asarray(s2, np.int32),
                  np.concatenate(i2).astype(np.int32), np.concatenate(v2))
        ncols += len(ids)

    add_cols(np.arange(len(pool)))
    best_bound = np.inf
    history: list[float] = []
    lp_value = -np.inf
    converged = False
    r = 0
    for r in range(1, max_rounds + 1):  # noqa: B007
        t_r = time.perf_counter()
        h.run()
        lp_value = h.getInfo().objective_function_value
        sol = h.getSolution()
        dual = np.asarray(sol.row_dual)
        alpha_c = dual[:C]
        if on_path is not None:
            ap = _argmax_path(pool, np.asarray(sol.col_value))
            if np.all(ap[:, 0] >= 0):
                on_path(ap)
        pi = np.maximum(0.0, dual[C:C + SK].reshape(S, K))
        sigma = np.maximum(0.0, dual[C + SK:])
        omega = np.ones_like(w)
        beta = np.zeros_like(w)
        cut_const = 0.0
        for q, (P, cells, alph, a0) in enumerate(cuts):  # noqa: N806
            if sigma[q] <= 0.0:
                continue
            s, k = divmod(P, K)
            li = np.argmax(p.cand[cells] == s, axis=1)
            omega[cells, li, k] -= sigma[q]
            beta[cells, li, k] += sigma[q] * alph
            cut_const += sigma[q] * a0
        phi, ys = _slot_values(pi, p.cand, w, vis, float(p.eps), omega, beta, True)
        path, vals, _ = dp_paths(p, phi)
        bound = float(pi.sum() + cut_const + vals.sum())
        history.append(bound)
        best_bound = min(best_bound, bound)
        t_lp = time.perf_counter() - t_r
        if on_path is not None and np.all(path[:, 0] >= 0):
            primal = on_path(path)
            if relative_gap(best_bound, primal) <= gap_tol:
                break
        red = vals - alpha_c
        cells_new = np.nonzero(red > tol)[0]
        y = ys[np.arange(C)[:, None], np.maximum(path, 0), kk[None, :]]
        new = pool.add(path, y, cells_new) if cells_new.size else np.zeros(0, np.int64)
        add_cols(new)
        n_cuts = 0
        if new.size == 0:
            n_cuts = _separate(p, pool, np.asarray(sol.col_value), pi, cuts, cut_of_cell, h, col_util,
                               min_violation, max_cuts_per_round, max_cell_set, priced_only, sep_time)
            if n_cuts == 0:
                converged = True
        if verbose:
            print(f"round {r}: lp {lp_value:.4f} bound {bound:.4f} best {best_bound:.4f} cols {len(pool)} "
                  f"new {new.size} cuts {len(cuts)} (+{n_cuts}) lp+dp {t_lp:.1f} s t {time.perf_counter() - t0:.1f}",
                  flush=True)
        if converged or time.perf_counter() - t0 > time_limit:
            break
    return {"bound": best_bound, "lp_value": lp_value, "rounds": r, "cuts": len(cuts), "converged": converged,
            "history": history, "time_s": time.perf_counter() - t0}


def _separate(p: Problem, pool: ColumnPool, x: np.ndarray, pi: np.ndarray,
              cuts: list, cut_of_cell: dict, h: highspy.Highs, col_util: Callable[[int], np.ndarray],
              min_violation: float, max_cuts: int, max_cell_set: int, priced_only: bool = True,
              sep_time: float = np.inf) -> int:
    """Add the violated pool-hull cuts of the priced pools that hold a fractional cell."""
    K = p.K  # noqa: N806
    kk = np.arange(K)
    Xd: dict[int, dict[int, list[float]]] = {}  # noqa: N806
    cols_of: dict[int, list[tuple[int, int]]] = {}
    for j in np.nonzero(x > 1e-9)[0].tolist():
        c, pc = pool.cell[j], pool.path[j]
        P = p.cand[c, pc] * K + kk  # noqa: N806
        wc = p.w[c, pc, kk]
        u = col_util(int(j))
        for k in np.nonzero((wc > 0) & np.isfinite(wc) & ((pi.ravel()[P] > 1e-9) | (not priced_only)))[0].tolist():
            e = Xd.setdefault(int(P[k]), {}).setdefault(c, [0.0, 0.0])
            e[0] += float(x[j])
            e[1] += float(x[j] * u[k])
            cols_of.setdefault(int(P[k]), []).append((int(j), int(k)))
    cand_pools = []
    for P, members in Xd.items():  # noqa: N806
        xs = np.asarray([v[0] for v in members.values()])
        if np.any((xs > 1e-6) & (xs < 1 - 1e-6)) and len(members) <= max_cell_set:
            cand_pools.append(P)
    found = []
    t_sep = time.perf_counter()
    for P in cand_pools:  # noqa: N806
        if time.perf_counter() - t_sep > sep_time:
            break
        cells = np.asarray(sorted(Xd[P]), np.int64)
        s, k = divmod(P, K)
        li = np.argmax(p.cand[cells] == s, axis=1)
        wv = np.ascontiguousarray(p.w[cells, li, k])
        X = np.asarray([min(1.0, Xd[P][c][0]) for c in cells])  # noqa: N806
        ulog = float(sum(Xd[P][c][1] for c in cells))
        out = _hull_cut(wv, X, ulog, float(p.eps))
        if out is not None and out[2] > min_violation:
            found.append((out[2], P, cells, out[0], out[1]))
    found.sort(key=lambda t: -t[0])
    by_cell: dict[int, list[int]] = {}
    for j, c in enumerate(pool.cell):
        by_cell.setdefault(c, []).append(j)
    added = 0
    for _viol, P, cells, alph, a0 in found[:max_cuts]:  # noqa: N806
        q = len(cuts)
        cuts.append((P, cells, alph, a0))
        amap = dict(zip(cells.tolist(), alph.tolist(), strict=True))
        for c, a in amap.items():
            cut_of_cell.setdefault((c, P), []).append((q, a))
        # coefficients of existing columns: every column of a cut cell through P
        idx: list[int] = []
        val: list[float] = []
        sat_q, k_q = divmod(int(P), K)
        for c in cells.tolist():
            for j in by_cell.get(c, ()):
                if p.cand[c, pool.path[j][k_q]] == sat_q:
                    idx.append(j)
                    val.append(float(col_util(j)[k_q] - amap[c]))
        h.addRow(-highspy.kHighsInf, float(a0), len(idx), np.asarray(idx, np.int32), np.asarray(val))
        added += 1
    return added
