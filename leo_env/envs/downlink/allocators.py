"""Inner (fast-timescale) allocators: PRBs and power of every satellite over one slow slot.

An allocator maps a batch of associations and the slot's realised arrivals to the satisfaction
``xi`` and the served bits of every cell.  All take a leading batch axis ``B`` and are called
once per environment step for every environment of a batch:

``"p1"``
    exact P1, fast solver (:func:`oracles.p1.fast.allocate`, the lean form of
    :func:`oracles.p1.solve_batch` with ``method="fast"``); the default.  Binding causality is
    settled by the solver's price-block paths (free prefix, staircase of two price blocks) where
    they apply, by its interior point otherwise; :func:`p1_fast_interior_point` (a hook, not a
    name) keeps the interior point only, as before.
``"cvx"``
    exact P1, CVXPY reference (:func:`oracles.p1.solve`, one instance at a time; slow).
``"equal"``
    every satellite splits its PRBs and power equally among its associated cells with demand;
    each cell's backlog is then served greedily in time (the best causal schedule for fixed
    rates).  No optimisation: a fast lower bound on P1 and a fallback without ``oracles.p1``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from leo_env.core.utility import satisfaction

__all__ = [
    "Allocation",
    "ALLOCATORS",
    "get_allocator",
    "equal_share",
    "causal_service",
    "p1_fast_interior_point",
]

LN2 = float(np.log(2.0))


class Allocation(NamedTuple):
    """Outcome of one slow slot for a batch of environments.

    Attributes
    ----------
    xi : ndarray, shape (B, C)
        Satisfaction in [0, 1]; ``nan`` for cells without demand.
    served_bits : ndarray, shape (B, C)
        Bits served over the slot [bit].
    """

    xi: np.ndarray
    served_bits: np.ndarray


Allocator = Callable[..., Allocation]


def causal_service(a: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Bits served over a slot by greedy causal service at fixed per-fast-slot rates.

    With cumulative arrivals ``A_m`` and cumulative service capacity ``R_m`` (``A_0 = R_0 = 0``)
    the backlog recursion ``Z_m = min(A_m, Z_{m-1} + r_m)`` unrolls to
    ``Z_M = R_M + min(0, min_m (A_m - R_m))``.

    Parameters
    ----------
    a : ndarray, shape (..., M)
        Arrivals per fast slot [bit].
    r : ndarray, shape (..., M) or (...,)
        Service capacity per fast slot [bit] (broadcast over the fast slots when 1-D less).
    """
    a = np.asarray(a, dtype=float)
    r = np.broadcast_to(
        np.asarray(r, dtype=float)[..., None] if np.ndim(r) < a.ndim else r, a.shape
    )
    A = np.cumsum(a, axis=-1)  # noqa: N806
    R = np.cumsum(r, axis=-1)  # noqa: N806
    return R[..., -1] + np.minimum(0.0, (A - R).min(axis=-1))


def equal_share(
    assoc: np.ndarray,
    a: np.ndarray,
    g: np.ndarray,
    *,
    N_PRB: np.ndarray,  # noqa: N803
    P_max: np.ndarray,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    eps: float = 1e-4,
) -> Allocation:
    """Equal split of every satellite's PRBs and power among its cells with demand.

    A cell on satellite ``s`` shared by ``n_s`` cells with demand gets ``N_PRB/n_s`` PRBs and
    ``P_max/n_s`` watts in every fast slot, hence the rate
    ``T_f W_PRB (N_PRB/n_s) log2(1 + alpha P_max/N_PRB)`` with ``alpha = g / (W_PRB N0)``.

    Parameters
    ----------
    assoc : ndarray of int, shape (B, C)
        Serving satellite of every cell (``-1``: unserved).
    a : ndarray, shape (B, C, M)
        Arrivals [bit per fast slot].
    g : ndarray, shape (B, S, C) or (B, S, C, M)
        Linear gains (per fast slot with fading).
    N_PRB, P_max : ndarray, shape (B, S)
        Pools per fast slot [PRB], [W].
    W_PRB, N0, T_f : float
        PRB bandwidth [Hz], noise density [W/Hz], fast-slot length [s].
    eps : float
        Unused (same signature as the exact allocators).
    """
    del eps
    B, C, _ = a.shape  # noqa: N806
    S = g.shape[1]  # noqa: N806
    served_cell = assoc >= 0
    s = np.where(served_cell, assoc, 0)
    bi = np.arange(B)[:, None]
    demand = a.sum(axis=-1)
    active = served_cell & (demand > 0)
    count = np.bincount((bi * S + s)[active], minlength=B * S).reshape(B, S)
    share = 1.0 / np.maximum(count[bi, s], 1)
    ci = np.arange(C)[None, :]
    gain = g[bi, s, ci]  # (B, C) or (B, C, M)
    ratio = (P_max / N_PRB)[bi, s]
    prb = N_PRB[bi, s] * share * served_cell
    if gain.ndim == 3:
        ratio, prb = ratio[..., None], prb[..., None]
    r = T_f * W_PRB * prb * np.log1p(gain * ratio / (W_PRB * N0)) / LN2
    served = causal_service(a, r)
    return Allocation(satisfaction(served, demand), served)


def _onehot(assoc: np.ndarray, S: int) -> np.ndarray:  # noqa: N803
    B, C = assoc.shape  # noqa: N806
    x = np.zeros((B, S, C), dtype=bool)
    b, c = np.nonzero(assoc >= 0)
    x[b, assoc[b, c], c] = True
    return x


_P1_ALLOCATE: list[Callable[..., tuple[np.ndarray, np.ndarray]]] = []


def _p1_allocate() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """:func:`oracles.p1.fast.allocate`, imported on first use.

    Kept after that: an import statement in every step costs ~1 us.
    """
    from oracles.p1.fast import allocate

    _P1_ALLOCATE.append(allocate)
    return allocate


def p1_fast(
    assoc: np.ndarray,
    a: np.ndarray,
    g: np.ndarray,
    *,
    N_PRB: np.ndarray,  # noqa: N803
    P_max: np.ndarray,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    eps: float = 1e-4,
    inputs_finite: bool = False,
) -> Allocation:
    """Exact P1 with the fast solver, one batched call (same arguments as :func:`equal_share`).

    Uses the solver's lean entry point :func:`oracles.p1.fast.allocate` (the environment's
    arrays are valid by construction): same numbers as :func:`oracles.p1.solve_batch`.
    Non-finite input raises ``ValueError`` in debug mode, unless ``inputs_finite=True`` says
    that the caller has checked every input already.
    """
    allocate = _P1_ALLOCATE[0] if _P1_ALLOCATE else _p1_allocate()

    # the lean entry point skips validation: finiteness is checked inside its kernel, in debug
    # mode (python -O turns it off, as it would an assert); ValueError on non-finite input.
    # inputs_finite=True: the caller checked every input already (the environment does once per
    # episode table, :attr:`~leo_env.envs.downlink.tables.EpisodeTables.inputs_finite`)
    xi, served = allocate(
        assoc, a, g, N_PRB=N_PRB, P_max=P_max, W_PRB=W_PRB, N0=N0, T_f=T_f, eps=eps,
        check_finite=__debug__ and not inputs_finite,
    )  # fmt: skip
    return Allocation(xi, served)


def p1_fast_interior_point(
    assoc: np.ndarray,
    a: np.ndarray,
    g: np.ndarray,
    *,
    N_PRB: np.ndarray,  # noqa: N803
    P_max: np.ndarray,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    eps: float = 1e-4,
    inputs_finite: bool = False,
) -> Allocation:
    """Exact P1 as :func:`p1_fast`, on the fast solver's previous path (``nested=False``).

    The interior point runs wherever uniform prices do not settle a satellite (no free prefix
    or staircase).  Same optimum to the solver's tolerance; for comparisons (pass it as the
    ``allocator`` hook).
    """
    allocate = _P1_ALLOCATE[0] if _P1_ALLOCATE else _p1_allocate()

    xi, served = allocate(
        assoc, a, g, N_PRB=N_PRB, P_max=P_max, W_PRB=W_PRB, N0=N0, T_f=T_f, eps=eps,
        nested=False, check_finite=__debug__ and not inputs_finite,
    )  # fmt: skip
    return Allocation(xi, served)


def p1_cvx(
    assoc: np.ndarray,
    a: np.ndarray,
    g: np.ndarray,
    *,
    N_PRB: np.ndarray,  # noqa: N803
    P_max: np.ndarray,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    eps: float = 1e-4,
) -> Allocation:
    """Exact P1 with the CVXPY reference, one instance at a time (slow; for checks)."""
    from oracles import p1

    x = _onehot(assoc, g.shape[1])
    xi = np.empty(assoc.shape)
    served = np.empty(assoc.shape)
    for b in range(assoc.shape[0]):
        res = p1.solve(
            x[b],
            a[b],
            g[b],
            N_PRB=N_PRB[b],
            P_max=P_max[b],
            W_PRB=W_PRB,
            N0=N0,
            T_f=T_f,
            eps=eps,
            method="cvx",
        )
        xi[b] = res.xi
        served[b] = np.asarray(res.z, dtype=float).sum(-1)
    return Allocation(xi, served)


ALLOCATORS: dict[str, Allocator] = {"p1": p1_fast, "cvx": p1_cvx, "equal": equal_share}

FINITE_CHECKING: frozenset[Allocator] = frozenset({p1_fast, p1_fast_interior_point})
"""Allocators that check their inputs for finiteness (debug mode) unless called with
``inputs_finite=True`` (the caller checked them already)."""


def get_allocator(name: str | Allocator) -> Allocator:
    """Allocator by name (``"p1"``, ``"cvx"``, ``"equal"``) or a callable with the same signature.

    Raises
    ------
    ValueError
        Unknown name, or ``"p1"``/``"cvx"`` while :mod:`oracles.p1` is not importable.
    """
    if callable(name):
        return name
    if name not in ALLOCATORS:
        raise ValueError(
            f"allocator must be one of {sorted(ALLOCATORS)} or a callable, got {name!r}"
        )
    if name in ("p1", "cvx"):
        try:
            from oracles import p1
        except ImportError as exc:  # pragma: no cover - only while oracles.p1 is missing
            raise ValueError(f"allocator {name!r} needs oracles.p1 ({exc})") from exc
        if not hasattr(p1, "solve_batch" if name == "p1" else "solve"):
            raise ValueError(f"allocator {name!r}: oracles.p1 does not provide its solver yet")
    return ALLOCATORS[name]
