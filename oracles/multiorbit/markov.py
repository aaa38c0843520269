"""Markov-approximation search over satellite subsets (Alg. 1), with JUBPA inside.

Configurations are subsets ``A`` of the candidates with ``1 <= |A| <= min(N_max, F)``; the
value ``Phi(A)`` is the objective [Mbit/s] of JUBPA on ``A``.  The chain moves to a random
neighbour ``A'`` (add one, remove one or swap one, uniformly over the possible moves) with the
probability ``exp(beta Phi') / (exp(beta Phi) + exp(beta Phi'))`` of the log-sum-exp relaxation
(Chen et al., T-IT 2013), whose stationary law is ``p*(A) ~ exp(beta Phi(A))``.

DV-MOSS (``decay=True``): each iteration explores with probability ``eps`` (else consolidates:
keeps ``A``); after ``patience`` consecutive iterations without a change of ``A``,
``eps <- eps - d_eps``; stops when ``eps <= 0`` (or at ``max_iter``) and returns the best
configuration seen.  epsilon-Markov (``decay=False``): fixed ``eps`` for ``n_iter`` iterations,
returns the configuration the chain ends in.

``beta = 1 / (beta_rel * Phi_scale)`` with ``Phi_scale = max(|Phi(A_0)|, 1)`` [1/(Mbit/s)].
JUBPA is deterministic, so its values are memoised per subset.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from oracles.multiorbit.jubpa import jubpa
from oracles.multiorbit.solution import Solution

__all__ = ["initial_subset", "markov_search"]


def initial_subset(inst: CochannelInstance) -> tuple[int, ...]:
    """Start subset: the ``min(N_max, F, |S|)`` candidates visible to the most UEs.

    Ties: higher mean elevation, then lower index.
    """
    k = min(inst.n_max, inst.n_sub, inst.n_sats)
    count = inst.visible.sum(axis=1)
    elev = inst.elevation_deg.mean(axis=1)
    order = np.lexsort((np.arange(inst.n_sats), -elev, -count))
    return tuple(sorted(int(s) for s in order[:k]))


def _neighbour(
    a: tuple[int, ...], n_sats: int, k_max: int, rng: np.random.Generator
) -> tuple[int, ...]:
    inside = list(a)
    outside = [s for s in range(n_sats) if s not in a]
    moves: list[tuple[str, int, int]] = []
    if len(inside) < k_max:
        moves += [("add", -1, s) for s in outside]
    if len(inside) > 1:
        moves += [("remove", s, -1) for s in inside]
    moves += [("swap", s, t) for s in inside for t in outside]
    if not moves:
        return a
    kind, out_s, in_s = moves[int(rng.integers(len(moves)))]
    new = set(inside)
    if kind in ("remove", "swap"):
        new.discard(out_s)
    if kind in ("add", "swap"):
        new.add(in_s)
    return tuple(sorted(new))


def markov_search(
    inst: CochannelInstance,
    rng: np.random.Generator,
    *,
    decay: bool = True,
    eps0: float = 1.0,
    d_eps: float = 0.05,
    patience: int = 5,
    beta_rel: float = 0.01,
    max_iter: int = 400,
    n_iter: int = 60,
    start: tuple[int, ...] | None = None,
    inner: Callable[[CochannelInstance, tuple[int, ...]], Solution] | None = None,
    method: str | None = None,
) -> Solution:
    """Markov-approximation subset search (DV-MOSS with ``decay=True``, epsilon-Markov without).

    Parameters
    ----------
    inst : CochannelInstance
        The instance.
    rng : numpy.random.Generator
        Randomness of the chain.
    decay : bool
        DV-MOSS exploration decay and best-seen return (True) or fixed-epsilon chain (False).
    eps0, d_eps, patience : float, float, int
        Initial exploration probability, its decrement, iterations without change before a
        decrement (DV-MOSS); with ``decay=False`` ``eps0`` is the fixed probability.
    beta_rel : float
        ``beta = 1 / (beta_rel * Phi_scale)``.
    max_iter : int
        Cap on DV-MOSS iterations.
    n_iter : int
        Iterations of epsilon-Markov.
    start : tuple of int, optional
        Initial subset (default :func:`initial_subset`).
    inner : callable, optional
        ``inner(inst, subset) -> Solution`` (default JUBPA with matching games).
    method : str, optional
        Name stored in the solution.

    Returns
    -------
    Solution
        ``info``: ``iterations``, ``inner_calls`` (distinct subsets solved), ``history`` (value
        of the chain's configuration per iteration), ``best_history``, ``time_s``, the returned
        inner solution's ``rounds``, ``inner_rounds`` (rounds of every inner solve),
        ``explored_subsets`` / ``explored_objectives`` (every subset solved and its objective, in
        the order first visited) and ``beta``.
    """
    if not 0 < eps0 <= 1 or d_eps <= 0 or patience < 1 or beta_rel <= 0:
        raise ValueError("need 0 < eps0 <= 1, d_eps > 0, patience >= 1, beta_rel > 0")
    t0 = time.perf_counter()
    solve = inner if inner is not None else (lambda i, a: jubpa(i, a))
    cache: dict[tuple[int, ...], Solution] = {}

    def value(a: tuple[int, ...]) -> Solution:
        if a not in cache:
            cache[a] = solve(inst, a)
        return cache[a]

    k_max = min(inst.n_max, inst.n_sub, inst.n_sats)
    a = initial_subset(inst) if start is None else tuple(sorted(start))
    cur = value(a)
    best = cur
    beta = 1.0 / (beta_rel * max(abs(cur.objective_mbps), 1.0))
    eps = eps0
    still = 0
    history = [cur.objective_mbps]
    best_history = [best.objective_mbps]
    it = 0
    limit = max_iter if decay else n_iter
    while it < limit and (eps > 1e-12 or not decay):
        it += 1
        changed = False
        if rng.random() < eps:
            a2 = _neighbour(a, inst.n_sats, k_max, rng)
            if a2 != a:
                cand = value(a2)
                z = beta * (cand.objective_mbps - cur.objective_mbps)
                prob = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
                if rng.random() < prob:
                    a, cur, changed = a2, cand, True
                    if cur.objective_mbps > best.objective_mbps:
                        best = cur
        history.append(cur.objective_mbps)
        best_history.append(best.objective_mbps)
        if decay:
            still = 0 if changed else still + 1
            if still >= patience:
                eps -= d_eps
                still = 0
    final = best if decay else cur
    name = method or ("dv-moss" if decay else "eps-markov")
    return Solution.build(
        inst,
        final.selected,
        final.owner,
        final.assoc,
        final.subc,
        final.power_w,
        method=name,
        iterations=it,
        inner_calls=len(cache),
        history=history,
        best_history=best_history,
        rounds=final.info.get("rounds"),
        inner_rounds=[c.info.get("rounds") for c in cache.values()],
        explored_subsets=list(cache.keys()),
        explored_objectives=[c.objective_mbps for c in cache.values()],
        beta=beta,
        time_s=time.perf_counter() - t0,
    )
