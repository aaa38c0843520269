"""P1 oracle: exact PRB and power allocation of one slow slot for a fixed association.

``maximise sum_c w_c log(eps + xi_c)`` over PRBs ``n[s, c, m]`` and powers ``p[s, c, m]`` under
per-satellite, per-fast-slot PRB and power pools, Shannon rates
``T_f W_PRB n log2(1 + alpha p / n)`` with ``alpha = g / (W_PRB N0)``, and causal service of the
arrivals (docs/model.md section 3).  Two solvers behind one API:

- ``method="fast"`` (default): exact, certified by a Lagrangian dual bound; closed form
  (Lambert W power-per-PRB rule, one pool per satellite) wherever it applies, a structured
  primal-dual interior point otherwise (binding causality, fading);
- ``method="cvx"``: the CVXPY reference (Clarabel by default).

>>> import numpy as np
>>> from oracles.p1 import solve
>>> x = np.array([[1, 1]]); a = np.full((2, 4), 2e4); g = np.array([[1e-17, 3e-18]])
>>> res = solve(x, a, g, N_PRB=100, P_max=100, W_PRB=180e3, N0=4e-21, T_f=1e-3)
>>> res.status, res.n.shape, np.round(res.xi, 4).tolist(), bool(res.gap < 1e-9)
('optimal', (1, 2, 4), [0.0091, 0.0027], True)
>>> round(float(res.n[0, :, 0].sum()), 6), round(float(res.p[0, :, 0].sum()), 6)
(100.0, 100.0)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from oracles.p1._validate import P1Data, canonicalize
from oracles.p1.result import P1BatchResult, P1Result, evaluate_allocation
from oracles.p1.rounding import round_prbs

__all__ = ["solve", "solve_batch", "P1Result", "P1BatchResult", "evaluate_allocation", "METHODS"]

METHODS = ("fast", "cvx")


def _dispatch(
    data: P1Data, method: str, integer_prb: bool, options: dict[str, Any]
) -> P1BatchResult:
    if not isinstance(integer_prb, bool | np.bool_):
        raise ValueError(f"integer_prb: expected a bool, got {integer_prb!r}")
    if method == "fast":
        from oracles.p1.fast import solve_fast

        res = solve_fast(data, **options)
    elif method == "cvx":
        from oracles.p1.cvx import solve_cvx

        res = solve_cvx(data, **options)
    else:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if integer_prb:
        t0 = time.perf_counter()
        n_int, p_int = round_prbs(res.n, res.p, data.x, data.N_PRB)
        ev = evaluate_allocation(data, n_int, p_int, project=True)
        loss = res.utility - ev["utility"]
        res = P1BatchResult(
            **{
                **res.__dict__,
                "n": n_int,
                "p": p_int,
                "z": ev["z"],
                "xi": ev["xi"],
                "utility": ev["utility"],
                "max_violation": ev["max_violation"],
                "utility_continuous": res.utility,
                "rounding_loss": loss,
                "solve_time_s": res.solve_time_s + time.perf_counter() - t0,
            }
        )
    return res


def solve_batch(
    x: Any,
    a: Any,
    g: Any,
    *,
    N_PRB: Any,
    P_max: Any,
    W_PRB: float,
    N0: float,
    T_f: float,
    eps: float = 1e-4,
    w: Any = None,
    method: str = "fast",
    integer_prb: bool = False,
    **solver_options: Any,
) -> P1BatchResult:
    """Solve B independent P1 instances (slow slots or scenarios) in one vectorised call.

    Parameters
    ----------
    x : array_like, shape (B, S, C)
        0/1 association; each cell to at most one satellite.
    a : array_like, shape (B, C, M)
        Arrivals [bit per fast slot].
    g : array_like, shape (B, S, C) or (B, S, C, M)
        Linear channel gains, per fast slot for fading.
    N_PRB, P_max : float or array_like, shape (S,) or (B, S)
        PRB pool [PRB] and power pool [W] per satellite and fast slot.
    W_PRB, N0, T_f : float
        PRB bandwidth [Hz], noise PSD [W/Hz], fast-slot length [s].
    eps : float
        Utility offset, > 0.
    w : array_like, shape (C,) or (B, C), optional
        Positive utility weights (default 1).
    method : {"fast", "cvx"}
        Solver.
    integer_prb : bool
        Round PRBs to integers per (satellite, slot) after solving (see
        :mod:`oracles.p1.rounding`); ``rounding_loss`` reports the utility lost.
    **solver_options
        Fast: ``tol``, ``target_gap``, ``mu_factor``, ``max_iter``, ``nested``.  CVX: ``solver``, ``form``,
        ``tight``, ``raise_on_inaccurate`` and anything ``problem.solve`` accepts.

    Returns
    -------
    P1BatchResult
        Every field of :class:`P1Result` with a leading batch axis.
    """
    data = canonicalize(
        x, a, g, N_PRB=N_PRB, P_max=P_max, W_PRB=W_PRB, N0=N0, T_f=T_f, eps=eps, w=w, batched=True
    )
    return _dispatch(data, method, integer_prb, solver_options)


def solve(
    x: Any,
    a: Any,
    g: Any,
    *,
    N_PRB: Any,
    P_max: Any,
    W_PRB: float,
    N0: float,
    T_f: float,
    eps: float = 1e-4,
    w: Any = None,
    method: str = "fast",
    integer_prb: bool = False,
    **solver_options: Any,
) -> P1Result:
    """Solve P1 for one slow slot.

    Parameters
    ----------
    x : array_like, shape (S, C)
        0/1 association; each cell to at most one satellite (a cell with no satellite gets
        ``xi = 0`` if it has demand; it is reported in ``no_satellite``).
    a : array_like, shape (C, M)
        Arrivals [bit per fast slot]; the demand is ``D_c = sum_m a[c, m]``.  Zero-demand cells
        are left out of the utility (``xi = nan``, reported in ``zero_demand``).
    g : array_like, shape (S, C) or (S, C, M)
        Linear channel gains (per fast slot with fading).
    N_PRB, P_max : float or array_like, shape (S,)
        PRB pool [PRB] and power pool [W] per satellite and fast slot.
    W_PRB, N0, T_f : float
        PRB bandwidth [Hz], noise PSD [W/Hz], fast-slot length [s].
    eps : float
        Utility offset, > 0.
    w : array_like, shape (C,), optional
        Positive utility weights (default 1).
    method : {"fast", "cvx"}
        ``"fast"``: exact solver with a certified dual bound; ``"cvx"``: CVXPY reference.
    integer_prb : bool
        Round PRBs to integers per (satellite, slot), keeping the pools.
    **solver_options
        See :func:`solve_batch`.

    Returns
    -------
    P1Result

    Raises
    ------
    ValueError
        On invalid input, naming the argument.
    oracles.p1.cvx.P1SolverError
        If the reference's conic solver fails.
    """
    data = canonicalize(
        x, a, g, N_PRB=N_PRB, P_max=P_max, W_PRB=W_PRB, N0=N0, T_f=T_f, eps=eps, w=w
    )
    return _dispatch(data, method, integer_prb, solver_options)[0]
