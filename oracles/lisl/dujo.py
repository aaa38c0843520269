"""DuJo (Alg. 1): projected subgradient on link prices, then conversion to a feasible solution.

Iteration ``k = 1..K`` at prices ``lambda`` (one per arc, per Gbit/s):

1. matching (26): greedy max-weight matching of the connectable LCT pairs with weights
   ``(lambda_ij + lambda_ji) r_nm`` (positive weights only; zero-weight pairs add nothing to the
   Lagrangian), or an exact matching (``exact_matching=True``);
2. paths (27): Dijkstra on the whole satellite graph with arc costs ``lambda_ij`` plus
   ``hop_epsilon`` per arc (ties go to fewer hops); ``cost_f`` = price sum of the path;
3. rates (28): the transport LP ``max sum_f q_f (1 - cost_f)`` over ``Q``, ``D`` (HiGHS, built
   once, warm-started);
4. subgradient (25): ``delta_ij = sum_f q_f x^f_ij - sum_{E_ij} r_nm c_nm`` [Gbit/s];
5. update (29): ``lambda <- clip(lambda + alpha0 k^-beta delta, 0, 1)`` (Lemma 1's box; without
   the projection onto 1 when ``project_unit=False``).

The estimate ``h_k`` = transport value + matching weight at ``lambda_k`` is the dual value when the
matching is exact; the *best iterate* is the ``lambda_k`` with the smallest ``h_k``.

Conversion (31)-(35) of prices ``lambda``: greedy matching with weights ``(lambda_ij +
lambda_ji) r_nm`` over all connectable pairs (ties: higher rate first; zero-price pairs are still
matched when their LCTs are free [C], since an extra link can only add capacity), Dijkstra on the
established links with costs ``lambda + hop_epsilon``, then the rate LP (35).  The paper converts
the last iterate; ``iterate="best"`` converts the best one and ``"both"`` returns the better.

The certificate: ``-g(lambda)`` with exact matching (:func:`oracles.lisl.bounds.dual_bound`) at the
last and at the best iterate, and at ``lambda = 0``; the smallest is ``upper_bound_gbps``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from leo_env.core.graph import shortest_paths
from oracles.lisl.bounds import dual_bound
from oracles.lisl.lp import TransportLP
from oracles.lisl.problem import LislProblem
from oracles.lisl.routing import match, route_and_rate
from oracles.lisl.solution import LislSolution, make_solution

__all__ = ["DujoParams", "DualTrace", "subgradient", "convert_prices", "dujo"]


@dataclass(frozen=True)
class DujoParams:
    """Parameters of DuJo (defaults: the paper's settings file).

    Attributes
    ----------
    iterations : int
        Subgradient iterations ``K`` >= 0.
    alpha0 : float
        Step size scale ``alpha0`` > 0 (step ``alpha0 k^-beta``) [1/(Gbit/s)].
    beta : float
        Step size exponent in [0, 1).
    project_unit : bool
        Project the prices onto ``[0, 1]`` (Lemma 1) instead of ``[0, inf)``.
    exact_matching : bool
        Exact (blossom) matching in the iterations instead of the paper's greedy one.
    iterate : {"last", "best", "both"}
        Which prices to convert (the paper: last).
    hop_epsilon : float
        Per-arc cost added in Dijkstra to break ties towards fewer hops, in [0, 1e-3].
    certify : bool
        Compute the certified dual bound (an exact matching per evaluated iterate).
    """

    iterations: int = 500
    alpha0: float = 0.1
    beta: float = 0.5
    project_unit: bool = True
    exact_matching: bool = False
    iterate: str = "last"
    hop_epsilon: float = 1e-9
    certify: bool = True

    def __post_init__(self) -> None:
        if int(self.iterations) < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if not math.isfinite(self.alpha0) or self.alpha0 <= 0:
            raise ValueError(f"alpha0 must be finite > 0, got {self.alpha0}")
        if not 0.0 <= self.beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {self.beta}")
        if self.iterate not in ("last", "best", "both"):
            raise ValueError(f"iterate must be 'last', 'best' or 'both', got {self.iterate!r}")
        if not 0.0 <= self.hop_epsilon <= 1e-3:
            raise ValueError(f"hop_epsilon must be in [0, 1e-3], got {self.hop_epsilon}")


@dataclass(frozen=True)
class DualTrace:
    """Result of :func:`subgradient`.

    Attributes
    ----------
    lam_last, lam_best : ndarray, shape (2L,)
        Last and best prices.
    h : ndarray, shape (K,)
        Dual estimate ``h_k`` at every iterate (exact dual value with exact matching).
    best_k : int
        Iteration of the best iterate (1-based; 0 = the initial prices).
    iter_time_s : float
        Mean time per iteration [s].
    """

    lam_last: np.ndarray
    lam_best: np.ndarray
    h: np.ndarray
    best_k: int
    iter_time_s: float


def subgradient(
    problem: LislProblem,
    params: DujoParams | None = None,
    *,
    lam0: np.ndarray | None = None,
    transport: TransportLP | None = None,
) -> DualTrace:
    """Run Alg. 1's projected subgradient method from ``lam0`` (zeros by default)."""
    p = DujoParams() if params is None else params
    tlp = TransportLP(problem) if transport is None else transport
    na = problem.n_arcs
    lam = np.zeros(na) if lam0 is None else np.asarray(lam0, dtype=float).copy()
    if lam.shape != (na,):
        raise ValueError(f"lam0 must have shape ({na},), got {lam.shape}")
    rate = problem.rate_gbps
    link = problem.graph.pair_link
    src, dst = problem.flow_src, problem.flow_dst
    upper = 1.0 if p.project_unit else np.inf
    h = np.zeros(int(p.iterations))
    best_h, best_k, lam_best = np.inf, 0, lam.copy()
    t0 = time.perf_counter()
    for k in range(1, int(p.iterations) + 1):
        w = problem.pair_price(lam) * rate
        c = match(problem, w, exact=p.exact_matching, take_nonpositive=False)
        paths = shortest_paths(problem.arcs, lam + p.hop_epsilon, src, dst)
        owner = np.repeat(np.arange(problem.n_flows), paths.hops())
        cost = np.bincount(owner, weights=lam[paths.arcs], minlength=problem.n_flows)
        q, v_route = tlp.solve(np.where(paths.reachable, 1.0 - cost, 0.0))
        load = np.bincount(paths.arcs, weights=q[owner], minlength=na)
        cap_link = np.bincount(link[c], weights=rate[c], minlength=problem.graph.n_links)
        delta = load - np.repeat(cap_link, 2)
        h[k - 1] = v_route + float(w[c].sum())
        if h[k - 1] < best_h:
            best_h, best_k, lam_best = h[k - 1], k, lam.copy()
        lam = np.clip(lam + p.alpha0 * k ** (-p.beta) * delta, 0.0, upper)
    dt = (time.perf_counter() - t0) / max(int(p.iterations), 1)
    return DualTrace(lam, lam_best, h, best_k, dt)


def convert_prices(
    problem: LislProblem, lam: np.ndarray, *, hop_epsilon: float = 1e-9, method: str = "dujo"
) -> LislSolution:
    """Conversion (31)-(35): prices -> matching -> paths on established links -> rates."""
    t0 = time.perf_counter()
    lam = np.asarray(lam, dtype=float)
    rate = problem.rate_gbps
    c = match(problem, problem.pair_price(lam) * rate, take_nonpositive=True, tiebreak=rate)
    paths, q = route_and_rate(problem, c, lam + hop_epsilon)
    return make_solution(
        problem, method, c, paths.ptr, paths.arcs, q, solve_time_s=time.perf_counter() - t0
    )


def dujo(problem: LislProblem, params: DujoParams | None = None) -> LislSolution:
    """DuJo: subgradient on link prices, conversion, and the certified dual bound.

    Returns
    -------
    LislSolution
        ``info`` holds ``dual_trace`` (``h_k``), ``best_k``, ``iter_time_s``,
        ``throughput_last``/``throughput_best`` (when converted), ``bound_last``,
        ``bound_best``, ``bound_zero`` and ``conversion_time_s``.
    """
    p = DujoParams() if params is None else params
    t0 = time.perf_counter()
    tlp = TransportLP(problem)
    tr = subgradient(problem, p, transport=tlp)
    t1 = time.perf_counter()
    info: dict = {"dual_trace": tr.h, "best_k": tr.best_k, "iter_time_s": tr.iter_time_s}
    cands = {"last": tr.lam_last, "best": tr.lam_best}
    which = ["last", "best"] if p.iterate == "both" else [p.iterate]
    sols = {name: convert_prices(problem, cands[name], hop_epsilon=p.hop_epsilon) for name in which}
    for name, s in sols.items():
        info[f"throughput_{name}"] = s.throughput_gbps
    chosen = max(which, key=lambda nm: sols[nm].throughput_gbps)
    info["converted"] = chosen
    info["conversion_time_s"] = sols[chosen].solve_time_s
    bound = math.nan
    if p.certify:
        b_last = dual_bound(problem, tr.lam_last, transport=tlp).value
        b_best = dual_bound(problem, tr.lam_best, transport=tlp).value
        b_zero = dual_bound(problem, np.zeros(problem.n_arcs), transport=tlp).value
        info.update(bound_last=b_last, bound_best=b_best, bound_zero=b_zero)
        bound = min(b_last, b_best, b_zero)
    s = sols[chosen]
    info["subgradient_time_s"] = t1 - t0
    return make_solution(
        problem,
        "dujo",
        s.matched,
        s.path_ptr,
        s.path_arcs,
        s.rate_gbps,
        upper_bound_gbps=bound,
        solve_time_s=time.perf_counter() - t0,
        info=info,
    )
