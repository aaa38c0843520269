"""Power allocation (PA) for a fixed association and subcarrier assignment.

The PA problem separates per satellite ``s``:

    max  sum_{u in U_s} B log2(1 + SINR_u(p))   s.t.  sum_{u in U_s} p_u <= P_max,
         SINR_u(p) >= Gamma_u,  p >= 0.

Three solvers:

* :func:`allocate_exact` -- the exact-rate problem, solved through its structure.  For a fixed
  total power ``P_f`` on subcarrier ``f`` the rate of UE ``u`` is
  ``log((n_u + P_f) / (n_u + P_f - p_u))`` (``n_u = N0 B / g_u``), convex in ``p_u``, and the
  minimum rates are the linear bounds ``p_u >= a_u (n_u + P_f)`` (``a_u = Gamma_u/(1+Gamma_u)``);
  a convex function on this simplex is maximised at a vertex, so exactly one "winner" per
  subcarrier gets more than its minimum-rate power.  For fixed winners the subcarrier rate
  ``psi_f(P_f) = ln(n_w + P_f) - ln(c0 + c1 P_f)`` (``c1 = sum_{v != w} a_v < 1``,
  ``c0 = n_w + sum_{v != w} a_v n_v >= n_w``, hence ``c0 + c1 P >= c1 (n_w + P)``) is concave
  (``psi'' = -1/(n_w+P)^2 + c1^2/(c0+c1 P)^2 <= 0``) and increasing, and the split of
  ``P_max`` over subcarriers is a water-filling (bisection on the multiplier, closed-form
  quadratic roots).  The winners are chosen by alternation (winners at the current ``P_f``,
  water-fill, repeat) or, with ``enumerate_winners=True``, by trying every winner tuple (exact,
  for small instances).
* :func:`allocate_gp_cvxpy` -- the paper's Alg. 4 problem: high-SINR approximation
  ``log(1 + SINR) ~ log SINR`` turns PA into a geometric program, solved here with CVXPY's DGP
  (reference solve).
* :func:`sca_exact_cvxpy` -- successive convex approximation of the exact rate (each step a GP
  with weights ``alpha_u = SINR_u / (1 + SINR_u)`` at the current point); monotone in the
  exact sum rate, used as a check of the other two.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from leo_env.core.cochannel import CochannelInstance

__all__ = ["PowerResult", "allocate_exact", "allocate_gp", "allocate_gp_cvxpy", "sca_exact_cvxpy"]

_LN2 = math.log(2.0)


class PowerResult:
    """Powers of a PA solve: ``power_w`` (U,) [W] (0 for unserved) and ``feasible``."""

    __slots__ = ("power_w", "feasible", "sub_power_w")

    def __init__(self, power_w: np.ndarray, feasible: bool, sub_power_w: np.ndarray) -> None:
        self.power_w = power_w
        self.feasible = feasible
        self.sub_power_w = sub_power_w


class _Groups:
    """Served UEs grouped by subcarrier (arrays over served UEs and over used subcarriers)."""

    def __init__(self, inst: CochannelInstance, assoc: np.ndarray, subc: np.ndarray) -> None:
        assoc = np.asarray(assoc, dtype=np.intp)
        subc = np.asarray(subc, dtype=np.intp)
        self.u = np.flatnonzero(assoc >= 0)
        f = subc[self.u]
        s = assoc[self.u]
        self.used, self.j = np.unique(f, return_inverse=True)  # local subcarrier per UE
        g = inst.gain[s, self.u, f]
        self.n = inst.noise_w / g
        gam = inst.gamma_min[self.u]
        self.a = gam / (1.0 + gam)
        self.log1g = np.log1p(gam)
        nf = self.used.size
        self.a_sum = np.bincount(self.j, weights=self.a, minlength=nf)
        self.an_sum = np.bincount(self.j, weights=self.a * self.n, minlength=nf)
        sat_f = np.zeros(nf, dtype=np.intp)
        sat_f[self.j] = s
        self.sats, self.k = np.unique(sat_f, return_inverse=True)  # local satellite per sub
        self.solvable = self.a_sum < 1.0 - 1e-12
        with np.errstate(divide="ignore", invalid="ignore"):
            self.p_min = np.where(self.solvable, self.an_sum / (1.0 - self.a_sum), np.inf)
        self.members = [np.flatnonzero(self.j == q) for q in range(nf)]

    def winner_scores(self, p_f: np.ndarray) -> np.ndarray:
        """Per served UE: its rate gain over ``log(1+Gamma)`` if it were its subcarrier's winner."""
        pf = p_f[self.j]
        total = self.an_sum[self.j] + self.a_sum[self.j] * pf  # sum_v a_v (n_v + P)
        p_w = pf - (total - self.a * (self.n + pf))
        sinr = p_w / np.maximum(self.n + pf - p_w, 1e-300)
        return np.log1p(np.maximum(sinr, 0.0)) - self.log1g

    def best_winners(self, p_f: np.ndarray) -> np.ndarray:
        """Index (into the served arrays) of the best winner of every used subcarrier."""
        score = self.winner_scores(p_f)
        return np.array([m[np.argmax(score[m])] for m in self.members], dtype=np.intp)

    def powers(self, p_f: np.ndarray, winners: np.ndarray) -> np.ndarray:
        """Per served UE power for subcarrier totals ``p_f`` and the given winners."""
        p = self.a * (self.n + p_f[self.j])
        others = np.bincount(self.j, weights=p, minlength=self.used.size) - p[winners]
        p[winners] = p_f - others
        return p


def _waterfill(gr: _Groups, winners: np.ndarray, p_max: float) -> np.ndarray:
    """Concave split of ``p_max`` over each satellite's used subcarriers for fixed winners."""
    aw, nw = gr.a[winners], gr.n[winners]
    c1 = gr.a_sum - aw
    c0 = nw + gr.an_sum - aw * nw
    kk = np.maximum(c0 - c1 * nw, 1e-300)
    n_sat = gr.sats.size
    p_min = gr.p_min

    def root(nu_f: np.ndarray) -> np.ndarray:
        qa, qb, qc = nu_f * c1, nu_f * (c0 + c1 * nw), nu_f * nw * c0 - kk
        disc = np.sqrt(np.maximum(qb * qb - 4.0 * qa * qc, 0.0))
        r = np.where(qc < 0, -2.0 * qc / np.maximum(qb + disc, 1e-300), 0.0)
        return np.maximum(r, p_min)

    slack = p_max - np.bincount(gr.k, weights=p_min, minlength=n_sat)
    deriv_at_min = kk / ((nw + p_min) * (c0 + c1 * p_min))
    hi = np.full(n_sat, 0.0)
    np.maximum.at(hi, gr.k, deriv_at_min)
    lo = hi * 1e-14
    log_lo, log_hi = np.log(lo), np.log(hi)
    for _ in range(64):
        mid = 0.5 * (log_lo + log_hi)
        tot = np.bincount(gr.k, weights=root(np.exp(mid)[gr.k]), minlength=n_sat)
        big = tot > p_max
        log_lo = np.where(big, mid, log_lo)
        log_hi = np.where(big, log_hi, mid)
    p_f = root(np.exp(log_hi)[gr.k])
    extra = p_f - p_min
    extra_sum = np.bincount(gr.k, weights=extra, minlength=n_sat)
    scale = np.where(
        extra_sum > 0, np.maximum(slack, 0.0) / np.where(extra_sum > 0, extra_sum, 1.0), 0.0
    )
    p_f = p_min + extra * scale[gr.k]
    # A satellite whose extra power found no taker (impossible: psi is increasing) or with no
    # slack keeps the minimum-rate powers.
    return p_f


def _sum_log_rate(gr: _Groups, p: np.ndarray, p_f: np.ndarray) -> float:
    interf = p_f[gr.j] - p
    return float(np.sum(np.log1p(p / (gr.n + interf))))


def allocate_exact(
    inst: CochannelInstance,
    assoc: np.ndarray,
    subc: np.ndarray,
    *,
    enumerate_winners: bool = False,
    max_alternations: int = 20,
) -> PowerResult:
    """Exact-rate power allocation (see the module docstring).

    Parameters
    ----------
    inst : CochannelInstance
        The instance.
    assoc, subc : ndarray of int, shape (U,)
        Association and subcarrier of each UE (-1: unserved).
    enumerate_winners : bool, optional
        Try every winner tuple per satellite (exact; cost = product of subcarrier sizes).
        Otherwise alternate winners and water-filling (a local search that stops at a fixed
        point; exact whenever the winners it settles on are the optimal ones).
    max_alternations : int, optional
        Cap on the winner/water-filling alternations.

    Returns
    -------
    PowerResult
        ``feasible`` is False when some subcarrier fails the positivity test or some
        satellite's minimum-rate powers exceed ``P_max``; the powers are then the minimum-rate
        powers where finite and 0 elsewhere.
    """
    gr = _Groups(inst, assoc, subc)
    power = np.zeros(inst.n_ues)
    sub_power = np.zeros(inst.n_sub)
    if gr.u.size == 0:
        return PowerResult(power, True, sub_power)
    sat_min = np.bincount(gr.k, weights=gr.p_min, minlength=gr.sats.size)
    if not gr.solvable.all() or np.any(sat_min > inst.p_max_w * (1.0 + 1e-12)):
        p = np.where(np.isfinite(gr.p_min[gr.j]), gr.a * (gr.n + gr.p_min[gr.j]), 0.0)
        power[gr.u] = p
        return PowerResult(power, False, sub_power)
    if enumerate_winners:
        best_val, best = -np.inf, None
        for combo in itertools.product(*gr.members):
            w = np.asarray(combo, dtype=np.intp)
            p_f = _waterfill(gr, w, inst.p_max_w)
            p = gr.powers(p_f, w)
            val = _sum_log_rate(gr, p, p_f)
            if val > best_val:
                best_val, best = val, (p, p_f)
        assert best is not None
        p, p_f = best
    else:
        slack = inst.p_max_w - sat_min
        n_used = np.bincount(gr.k, minlength=gr.sats.size)
        p_f = gr.p_min + (slack / n_used)[gr.k]
        w = gr.best_winners(p_f)
        best_val, best = -np.inf, None
        seen: set[tuple[int, ...]] = set()
        for _ in range(max_alternations):
            key = tuple(w.tolist())
            if key in seen:
                break
            seen.add(key)
            p_f = _waterfill(gr, w, inst.p_max_w)
            p = gr.powers(p_f, w)
            val = _sum_log_rate(gr, p, p_f)
            if val > best_val:
                best_val, best = val, (p, p_f)
            w = gr.best_winners(p_f)
        assert best is not None
        p, p_f = best
    power[gr.u] = np.maximum(p, 0.0)
    sub_power[gr.used] = p_f
    return PowerResult(power, True, sub_power)


def _gp_problem_per_sat(
    inst: CochannelInstance,
    u_idx: np.ndarray,
    f_idx: np.ndarray,
    s: int,
    weights: np.ndarray,
) -> tuple[np.ndarray | None, str]:
    import cvxpy as cp

    m = u_idx.size
    g = inst.gain[s, u_idx, f_idx]
    n = inst.noise_w / g
    gam = inst.gamma_min[u_idx]
    # Scale powers by P_max so the GP is well conditioned.
    scale = inst.p_max_w
    p = cp.Variable(m, pos=True)
    t = cp.Variable(m, pos=True)
    cons = [cp.sum(p) <= 1.0, t >= gam]
    for i in range(m):
        others = [j for j in range(m) if j != i and f_idx[j] == f_idx[i]]
        interf = n[i] / scale
        if others:
            interf = interf + cp.sum(p[others])
        cons.append(t[i] * interf / p[i] <= 1.0)
    obj = cp.Maximize(cp.prod(cp.hstack([t[i] ** float(weights[i]) for i in range(m)])))
    prob = cp.Problem(obj, cons)
    try:
        prob.solve(gp=True, solver="CLARABEL")
    except cp.SolverError:
        return None, "solver_error"
    if prob.status not in ("optimal", "optimal_inaccurate") or p.value is None:
        return None, str(prob.status)
    return np.asarray(p.value, dtype=float) * scale, str(prob.status)


def allocate_gp_cvxpy(
    inst: CochannelInstance,
    assoc: np.ndarray,
    subc: np.ndarray,
    weights: np.ndarray | None = None,
) -> PowerResult:
    """The high-SINR geometric program of Alg. 4, solved per satellite with CVXPY (DGP).

    ``max prod_u SINR_u^{w_u}`` s.t. ``SINR_u (n_u + sum_{v != u on f} p_v) / p_u <= 1``,
    ``SINR_u >= Gamma_u``, ``sum p <= P_max`` (``w = 1``: the paper's approximation).
    ``feasible`` is False when a satellite's GP is infeasible.
    """
    assoc = np.asarray(assoc, dtype=np.intp)
    subc = np.asarray(subc, dtype=np.intp)
    w_all = np.ones(inst.n_ues) if weights is None else np.asarray(weights, dtype=float)
    power = np.zeros(inst.n_ues)
    feasible = True
    for s in np.unique(assoc[assoc >= 0]):
        u_idx = np.flatnonzero(assoc == s)
        p, _ = _gp_problem_per_sat(inst, u_idx, subc[u_idx], int(s), w_all[u_idx])
        if p is None:
            feasible = False
            continue
        power[u_idx] = p
    sub_power = np.bincount(subc[assoc >= 0], weights=power[assoc >= 0], minlength=inst.n_sub)
    return PowerResult(power, feasible, sub_power)


def sca_exact_cvxpy(
    inst: CochannelInstance,
    assoc: np.ndarray,
    subc: np.ndarray,
    power0_w: np.ndarray,
    iters: int = 10,
    rtol: float = 1e-7,
    solver: str = "cvxpy",
) -> tuple[np.ndarray, list[float]]:
    """Successive convex approximation of the exact-rate PA, started at ``power0_w``.

    Uses ``log(1 + x) >= alpha log x + beta`` (tight at the current SINR, ``alpha = x/(1+x)``),
    so each step is a weighted GP and the exact sum rate never decreases.  ``solver``:
    ``"cvxpy"`` (:func:`allocate_gp_cvxpy`) or ``"barrier"`` (:func:`allocate_gp`).

    Returns
    -------
    power_w : ndarray, shape (U,)
        Final powers [W].
    history : list of float
        Exact sum rate after each step [bit/s], starting with the initial point.
    """
    from leo_env.core.cochannel import cochannel_sinr

    if solver not in ("cvxpy", "barrier"):
        raise ValueError(f"solver must be 'cvxpy' or 'barrier', got {solver!r}")
    assoc = np.asarray(assoc, dtype=np.intp)
    subc = np.asarray(subc, dtype=np.intp)
    p = np.asarray(power0_w, dtype=float).copy()
    served = np.flatnonzero(assoc >= 0)

    def sum_rate(pw: np.ndarray) -> tuple[float, np.ndarray]:
        g = inst.gain[assoc[served], served, subc[served]]
        sinr = cochannel_sinr(g, pw[served], subc[served], inst.noise_w, inst.n_sub)
        return float(inst.bandwidth_hz * np.sum(np.log2(1.0 + sinr))), sinr

    val, sinr = sum_rate(p)
    history = [val]
    for _ in range(iters):
        w = np.zeros(inst.n_ues)
        w[served] = sinr / (1.0 + sinr)
        if solver == "cvxpy":
            res = allocate_gp_cvxpy(inst, assoc, subc, weights=w)
        else:
            res = allocate_gp(inst, assoc, subc, weights=w)
        if not res.feasible:
            break
        new_val, new_sinr = sum_rate(res.power_w)
        if new_val < val * (1.0 - 1e-9):
            break
        converged = new_val - val <= rtol * max(abs(val), 1.0)
        p, val, sinr = res.power_w, new_val, new_sinr
        history.append(val)
        if converged:
            break
    return p, history


def _gp_barrier_sat(
    n: np.ndarray,
    same: np.ndarray,
    log_gam: np.ndarray,
    w: np.ndarray,
    p_max: float,
    p0: np.ndarray,
    gap_tol: float,
) -> tuple[np.ndarray, int]:
    """Log-barrier Newton method for one satellite's GP in ``x = ln p`` (see allocate_gp)."""
    m = n.size
    x = np.log(p0)
    eye = np.eye(m)

    def parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
        q = np.exp(x)
        d = n + same @ q
        jac = same * q[None, :] / d[:, None]  # d ln D_u / d x_v
        h = log_gam - x + np.log(d)  # <= 0: SINR_u >= Gamma_u
        g = math.log(q.sum() / p_max)  # <= 0: power budget
        return q, d, jac, g, h

    def phi(x: np.ndarray, t: float) -> float:
        q, d, _, g, h = parts(x)
        if g >= 0 or np.any(h >= 0):
            return math.inf
        f0 = -float(np.sum(w * (x - np.log(d))))
        return t * f0 - float(np.sum(np.log(-h))) - math.log(-g)

    t = 1.0
    newton = 0
    n_con = m + 1
    while True:
        for _ in range(100):
            q, d, jac, g, h = parts(x)
            r = 1.0 / (-h)
            pi_ = q / q.sum()
            grad_f0 = -w + jac.T @ w
            hess_f0 = np.diag(jac.T @ w) - jac.T @ (w[:, None] * jac)
            gh = jac - eye  # rows: grad h_u
            grad = t * grad_f0 + gh.T @ r + pi_ / (-g)
            hess = (
                t * hess_f0
                + np.diag(jac.T @ r)
                - jac.T @ (r[:, None] * jac)
                + gh.T @ ((r * r)[:, None] * gh)
                + (np.diag(pi_) - np.outer(pi_, pi_)) / (-g)
                + np.outer(pi_, pi_) / (g * g)
            )
            try:
                step = -np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                step = -np.linalg.lstsq(hess, grad, rcond=None)[0]
            dec = -float(grad @ step)
            newton += 1
            if dec / 2.0 <= 1e-12:
                break
            f_cur = phi(x, t)
            s = 1.0
            while phi(x + s * step, t) > f_cur - 0.25 * s * dec and s > 1e-12:
                s *= 0.5
            x = x + s * step
            if s <= 1e-12:
                break
        if n_con / t < gap_tol:
            break
        t *= 20.0
    return np.exp(x), newton


def allocate_gp(
    inst: CochannelInstance,
    assoc: np.ndarray,
    subc: np.ndarray,
    weights: np.ndarray | None = None,
    gap_tol: float = 1e-9,
) -> PowerResult:
    """The paper's Alg. 4 problem (high-SINR geometric program), solved by this module.

    Per satellite, in ``x = ln p``: maximise ``sum_u w_u (x_u - ln(n_u + sum_{v != u on f}
    e^{x_v}))`` (``= sum_u w_u ln SINR_u``) subject to ``SINR_u >= Gamma_u`` and
    ``ln sum_u e^{x_u} <= ln P_max`` -- a convex program (the GP of (63)-(66) after the change
    of variables).  The paper solves its KKT system by projected subgradient steps on the
    multipliers; here a log-barrier Newton method (Boyd and Vandenberghe, ch. 11) solves the
    same convex problem to a duality gap ``gap_tol`` (in units of the objective, nats), started
    from the minimum-rate powers scaled into the interior.  ``weights`` (default 1) give the
    weighted GP used by successive convex approximation.  A satellite whose minimum-rate
    powers exceed ``P_max`` (or fail the positivity test) makes ``feasible`` False; a satellite
    whose minimum-rate powers use exactly ``P_max`` keeps them.
    """
    from leo_env.core.cochannel import min_rate_powers

    assoc = np.asarray(assoc, dtype=np.intp)
    subc = np.asarray(subc, dtype=np.intp)
    w_all = np.ones(inst.n_ues) if weights is None else np.asarray(weights, dtype=float)
    power = np.zeros(inst.n_ues)
    feasible = True
    for s in np.unique(assoc[assoc >= 0]):
        u_idx = np.flatnonzero(assoc == s)
        f = subc[u_idx]
        g = inst.gain[s, u_idx, f]
        gam = inst.gamma_min[u_idx]
        p0, total, ok = min_rate_powers(g, gam, f, inst.noise_w, inst.n_sub)
        if not ok.all() or p0.sum() > inst.p_max_w * (1 + 1e-12):
            feasible = False
            continue
        if p0.sum() >= inst.p_max_w * (1 - 1e-9) or np.any(gam <= 0):
            power[u_idx] = p0 if p0.sum() >= inst.p_max_w * (1 - 1e-9) else power[u_idx]
            if np.any(gam <= 0):
                raise ValueError("allocate_gp needs r_min_bps > 0 (Gamma_u > 0) for every UE")
            continue
        kappa = math.sqrt(inst.p_max_w / p0.sum())
        same = (f[:, None] == f[None, :]) & ~np.eye(u_idx.size, dtype=bool)
        p, _ = _gp_barrier_sat(
            inst.noise_w / g,
            same.astype(float),
            np.log(gam),
            w_all[u_idx],
            inst.p_max_w,
            p0 * kappa,
            gap_tol,
        )
        power[u_idx] = p
    sub_power = np.bincount(subc[assoc >= 0], weights=power[assoc >= 0], minlength=inst.n_sub)
    return PowerResult(power, feasible, sub_power)
