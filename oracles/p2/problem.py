"""The P2 problem container: arrays, validation, derived proxy data and feasibility.

A :class:`Problem` holds one hindsight association problem (SPEC section 5): visibility, gains,
realised arrivals, per-cell handover budgets and the radio parameters, plus the capacity proxy
the solvers optimise.  Everything a solver needs is derived once and cached:

* a *compressed* candidate view: for each cell the satellites that are visible to it in at
  least one slot (``cand``, padded with ``-1``), so that work scales with the visible pairs
  rather than with ``S * C * K``;
* the full-satellite rate ``rho`` and the coupled-proxy rate ``R`` on that view;
* the minimum number of handovers each cell still needs from every (slot, satellite) state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from leo_env.scenario.scenario import Sizes
from oracles.p2 import proxy as _proxy

if TYPE_CHECKING:  # pragma: no cover
    from leo_env.scenario.scenario import Scenario

__all__ = ["Problem", "PROXIES"]

PROXIES = ("separable", "coupled")
_BIG = np.iinfo(np.int64).max // 4


def _as_float_array(name: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(value).__name__}") from exc
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found nan or inf)")
    return arr


def _per_entity(name: str, value: Any, n: int, what: str) -> np.ndarray:
    """Scalar or (n,) -> (n,) float array, > 0."""
    arr = _as_float_array(name, value)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},) (one per {what}), got {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got min {arr.min()}")
    return arr


def _positive_scalar(name: str, value: Any, allow_zero: bool = False) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    ok = out >= 0 if allow_zero else out > 0
    if not np.isfinite(out) or not ok:
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")
    return out


def _int_vector(name: str, value: Any, n: int, lo: int, hi: int | None = None) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
    if arr.size and not np.all(np.equal(np.mod(arr.astype(float), 1), 0)):
        raise ValueError(f"{name} must hold integers")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < lo:
        raise ValueError(f"{name} must be >= {lo}, got min {arr.min()}")
    if hi is not None and arr.size and arr.max() > hi:
        raise ValueError(f"{name} must be <= {hi}, got max {arr.max()}")
    return arr


@dataclass(frozen=True, eq=False)
class Problem(Sizes):
    """One P2 instance (hindsight association under hard per-cell handover budgets).

    Build it with :meth:`from_arrays` or :meth:`from_scenario`; the constructor expects
    already-validated arrays.

    Attributes
    ----------
    v : ndarray of bool, shape (S, C, K)
        Visibility of satellite ``s`` from cell ``c`` over slow slot ``k``.
    g : ndarray of float, shape (S, C, K)
        Large-scale channel gain, linear.
    a : ndarray of float, shape (C, K, M)
        Realised arrivals [bit per fast slot].
    H : ndarray of int, shape (C,)
        Episode handover budget per cell.
    budget : ndarray of int, shape (C,)
        Handovers the solvers may still spend per cell (``budget_left`` when given, else ``H``).
    N_PRB : ndarray of float, shape (S,)
        PRBs per satellite per fast slot.
    P_max : ndarray of float, shape (S,)
        Power pool per satellite per fast slot [W].
    W_PRB : float
        PRB bandwidth [Hz].
    N0 : float
        Noise power spectral density [W/Hz].
    T_f : float
        Fast-slot length [s].
    eps : float
        Offset in ``log(eps + xi)``.
    lambda_h : float
        Price of one handover in the objective.
    proxy : {"separable", "coupled"}
        Capacity proxy the solvers optimise.
    initial : ndarray of int, shape (C,)
        Satellite serving each cell before slot 0 (``-1``: none, the first association is free).
    scenario : Scenario or None
        Source scenario (used by :func:`oracles.p2.evaluate` for per-fast-slot gains).
    k_offset : int
        Index of this problem's slot 0 in ``scenario`` (non-zero for rolling-window slices).
    """

    v: np.ndarray
    g: np.ndarray
    a: np.ndarray
    H: np.ndarray
    budget: np.ndarray
    N_PRB: np.ndarray
    P_max: np.ndarray
    W_PRB: float
    N0: float
    T_f: float
    eps: float
    lambda_h: float
    proxy: str
    initial: np.ndarray
    scenario: Scenario | None = field(default=None, repr=False)
    k_offset: int = 0

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        v: np.ndarray,
        g: np.ndarray,
        a: np.ndarray,
        H: np.ndarray | int,  # noqa: N803 - SPEC's symbol
        *,
        N_PRB: np.ndarray | float,  # noqa: N803
        P_max: np.ndarray | float,  # noqa: N803
        W_PRB: float,  # noqa: N803
        N0: float,  # noqa: N803
        T_f: float,  # noqa: N803
        eps: float = 1e-4,
        lambda_h: float = 0.1,
        proxy: str = "separable",
        initial: np.ndarray | None = None,
        budget_left: np.ndarray | None = None,
        scenario: Scenario | None = None,
        k_offset: int = 0,
    ) -> Problem:
        """Validate plain arrays and build a problem.

        Parameters
        ----------
        v : array_like of bool, shape (S, C, K)
            Visibility.
        g : array_like of float, shape (S, C, K)
            Large-scale gain, linear, >= 0.
        a : array_like of float, shape (C, K, M)
            Realised arrivals [bit per fast slot], >= 0.
        H : int or array_like of int, shape (C,)
            Handover budget per cell over the horizon, >= 0.
        N_PRB, P_max : float or array_like, shape (S,)
            PRBs per fast slot and power pool [W] of every satellite, > 0.
        W_PRB : float
            PRB bandwidth [Hz], > 0.
        N0 : float
            Noise power spectral density [W/Hz], > 0.
        T_f : float
            Fast-slot length [s], > 0.
        eps : float
            Utility offset, > 0.
        lambda_h : float
            Handover price, >= 0.
        proxy : {"separable", "coupled"}
            Capacity proxy.
        initial : array_like of int, shape (C,), optional
            Satellite serving each cell before slot 0; a different satellite in slot 0 costs a
            handover.  ``-1`` or None: free first association.
        budget_left : array_like of int, shape (C,), optional
            Remaining budget per cell, in ``[0, H[c]]``; overrides ``H`` for the solvers (rolling
            windows, MPC).
        scenario : Scenario, optional
            Source scenario, kept for exact evaluation with per-fast-slot gains.
        k_offset : int
            Slot of ``scenario`` that is this problem's slot 0.

        Raises
        ------
        ValueError
            With the offending argument's name (e.g. ``budget_left`` above ``H`` or negative).
        """
        v_arr = np.asarray(v)
        if v_arr.ndim != 3:
            raise ValueError(f"v must have shape (S, C, K), got {v_arr.shape}")
        if v_arr.dtype != bool:
            if not np.all(np.isin(v_arr, (0, 1))):
                raise ValueError("v must be boolean (or 0/1)")
            v_arr = v_arr.astype(bool)
        S, C, K = v_arr.shape  # noqa: N806
        if min(S, C, K) < 1:
            raise ValueError(f"v must have S, C, K >= 1, got {v_arr.shape}")
        g_arr = _as_float_array("g", g, (S, C, K))
        if np.any(g_arr < 0):
            raise ValueError("g must be >= 0 (linear gains)")
        a_arr = _as_float_array("a", a)
        if a_arr.ndim != 3 or a_arr.shape[:2] != (C, K) or a_arr.shape[2] < 1:
            raise ValueError(f"a must have shape ({C}, {K}, M), got {a_arr.shape}")
        if np.any(a_arr < 0):
            raise ValueError("a must be >= 0 [bit per fast slot]")
        H_arr = _int_vector("H", H, C, 0)  # noqa: N806
        n_prb = _per_entity("N_PRB", N_PRB, S, "satellite")
        p_max = _per_entity("P_max", P_max, S, "satellite")
        w_prb = _positive_scalar("W_PRB", W_PRB)
        n0 = _positive_scalar("N0", N0)
        t_f = _positive_scalar("T_f", T_f)
        eps_f = _positive_scalar("eps", eps)
        lam = _positive_scalar("lambda_h", lambda_h, allow_zero=True)
        if proxy not in PROXIES:
            raise ValueError(f"proxy must be one of {PROXIES}, got {proxy!r}")
        init = np.full(C, -1, np.int64) if initial is None else _int_vector("initial", initial, C, -1, S - 1)
        budget = H_arr.copy() if budget_left is None else _int_vector("budget_left", budget_left, C, 0)
        over = np.nonzero(budget > H_arr)[0]
        if over.size:
            c = int(over[0])
            raise ValueError(
                f"budget_left must be <= H per cell (a remaining budget cannot exceed the episode "
                f"budget): cell {c} has budget_left={int(budget[c])} > H={int(H_arr[c])} "
                f"({over.size} cell(s))"
            )
        if int(k_offset) < 0:
            raise ValueError(f"k_offset must be >= 0, got {k_offset}")
        return cls(
            v=v_arr, g=g_arr, a=a_arr, H=H_arr, budget=budget, N_PRB=n_prb, P_max=p_max,
            W_PRB=w_prb, N0=n0, T_f=t_f, eps=eps_f, lambda_h=lam, proxy=str(proxy),
            initial=init, scenario=scenario, k_offset=int(k_offset),
        )

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        proxy: str = "separable",
        *,
        lambda_h: float | None = None,
        initial: np.ndarray | None = None,
        budget_left: np.ndarray | None = None,
    ) -> Problem:
        """Read a :class:`~leo_env.scenario.Scenario`'s arrays (``lambda_h`` may be overridden)."""
        return cls.from_arrays(
            scenario.v, scenario.g, scenario.a, scenario.H,
            N_PRB=scenario.N_PRB, P_max=scenario.P_max, W_PRB=scenario.W_PRB, N0=scenario.N0,
            T_f=scenario.T_f, eps=scenario.eps,
            lambda_h=scenario.lambda_h if lambda_h is None else lambda_h,
            proxy=proxy, initial=initial, budget_left=budget_left, scenario=scenario,
        )

    def replace(self, **changes: Any) -> Problem:
        """Copy with some constructor arguments changed (re-validated)."""
        kw: dict[str, Any] = dict(
            v=self.v, g=self.g, a=self.a, H=self.H, N_PRB=self.N_PRB, P_max=self.P_max,
            W_PRB=self.W_PRB, N0=self.N0, T_f=self.T_f, eps=self.eps, lambda_h=self.lambda_h,
            proxy=self.proxy, initial=self.initial, budget_left=self.budget,
            scenario=self.scenario, k_offset=self.k_offset,
        )
        kw.update(changes)
        return Problem.from_arrays(
            kw.pop("v"), kw.pop("g"), kw.pop("a"), kw.pop("H"), **kw
        )

    def window(self, k0: int, k1: int, initial: np.ndarray, budget_left: np.ndarray) -> Problem:
        """Slots ``k0 .. k1-1`` as a problem of its own (rolling horizon)."""
        if not 0 <= k0 < k1 <= self.K:
            raise ValueError(f"window must satisfy 0 <= k0 < k1 <= {self.K}, got ({k0}, {k1})")
        return self.replace(
            v=self.v[:, :, k0:k1], g=self.g[:, :, k0:k1], a=self.a[:, k0:k1, :],
            initial=initial, budget_left=budget_left, k_offset=self.k_offset + k0,
        )

    # ------------------------------------------------------------------ derived data
    @cached_property
    def D(self) -> np.ndarray:  # noqa: N802
        """Demand per cell and slow slot [bit], shape (C, K)."""
        return self.a.sum(axis=2)

    @cached_property
    def cand(self) -> np.ndarray:
        """Candidate satellites per cell (visible in some slot), shape (C, L), padded with -1."""
        seen = self.v.any(axis=2).T  # (C, S)
        L = max(1, int(seen.sum(axis=1).max()))  # noqa: N806
        order = np.argsort(~seen, axis=1, kind="stable")[:, :L]
        cand = np.where(np.take_along_axis(seen, order, axis=1), order, -1)
        return cand.astype(np.int64)

    @property
    def L(self) -> int:  # noqa: N802
        """Width of the candidate view."""
        return int(self.cand.shape[1])

    def gather(self, dense: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Dense (S, C, ...) array -> candidate view (C, L, ...) (``fill`` on padding)."""
        cand = self.cand
        safe = np.maximum(cand, 0)
        out = dense[safe, np.arange(self.C)[:, None]]
        pad = cand < 0
        if pad.any():
            out = np.where(pad.reshape(pad.shape + (1,) * (out.ndim - 2)), fill, out)
        return out

    def scatter(self, comp: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Candidate view (C, L, ...) -> dense (S, C, ...) (``fill`` where not a candidate)."""
        comp = np.asarray(comp)
        out = np.full((self.S, self.C) + comp.shape[2:], fill, dtype=comp.dtype)
        c_idx, l_idx = np.nonzero(self.cand >= 0)
        out[self.cand[c_idx, l_idx], c_idx] = comp[c_idx, l_idx]
        return out

    @cached_property
    def vis(self) -> np.ndarray:
        """Visibility on the candidate view, shape (C, L, K)."""
        return self.gather(self.v, fill=False).astype(bool)

    @cached_property
    def rho(self) -> np.ndarray:
        """Bits per slow slot of a cell holding all of a satellite's PRBs and power, (C, L, K)."""
        gc = self.gather(self.g)
        n_prb = np.where(self.cand >= 0, self.N_PRB[np.maximum(self.cand, 0)], 1.0)[:, :, None]
        p_max = np.where(self.cand >= 0, self.P_max[np.maximum(self.cand, 0)], 0.0)[:, :, None]
        return _proxy.full_satellite_bits(gc, n_prb, p_max, self.W_PRB, self.N0, self.T_f, self.M)

    @cached_property
    def R(self) -> np.ndarray:  # noqa: N802
        """Coupled-proxy rate per unit share [bit per slow slot], shape (C, L, K)."""
        gc = self.gather(self.g)
        n_prb = np.where(self.cand >= 0, self.N_PRB[np.maximum(self.cand, 0)], 1.0)[:, :, None]
        p_max = np.where(self.cand >= 0, self.P_max[np.maximum(self.cand, 0)], 0.0)[:, :, None]
        return _proxy.coupled_rate_bits(
            gc, n_prb, p_max, self.W_PRB, self.N0, self.T_f, self.a[:, None, :, :]
        )

    @cached_property
    def w(self) -> np.ndarray:
        """Share of a satellite a cell needs to be fully served, ``D / R``, shape (C, L, K).

        ``0`` where the demand is zero and ``inf`` where ``R = 0`` with positive demand.
        """
        D = np.broadcast_to(self.D[:, None, :], self.R.shape)  # noqa: N806
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(D > 0, D / np.where(self.R > 0, self.R, 1.0), 0.0)
        return np.where((D > 0) & (self.R <= 0), np.inf, out)

    @cached_property
    def sep_value(self) -> np.ndarray:
        """Separable proxy value ``log(eps + min(1, rho / D))`` per candidate, (C, L, K).

        Zero-demand cell-slots contribute 0 (they are left out of the utility).
        """
        D = np.broadcast_to(self.D[:, None, :], self.rho.shape)  # noqa: N806
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = np.minimum(1.0, self.rho / np.where(D > 0, D, 1.0))
        return np.where(D > 0, np.log(self.eps + xi), 0.0)

    @cached_property
    def init_l(self) -> np.ndarray:
        """Initial association on the candidate view (C,): index, -1 none, -2 not a candidate."""
        out = np.full(self.C, -1, np.int64)
        for c in np.nonzero(self.initial >= 0)[0]:
            hit = np.nonzero(self.cand[c] == self.initial[c])[0]
            out[c] = hit[0] if hit.size else -2
        return out

    @cached_property
    def future_min_handovers(self) -> np.ndarray:
        """``F[c, l, k]``: fewest handovers needed in slots ``k+1 .. K-1`` when on ``l`` at ``k``.

        Shape (C, L, K), int64; a huge value where ``l`` is not visible at ``k`` or no path
        exists.
        """
        vis = self.vis
        C, L, K = vis.shape  # noqa: N806
        F = np.full((C, L, K), _BIG, np.int64)  # noqa: N806
        F[:, :, K - 1] = np.where(vis[:, :, K - 1], 0, _BIG)
        for k in range(K - 2, -1, -1):
            nxt = F[:, :, k + 1]
            best = nxt.min(axis=1, keepdims=True)
            cand = np.minimum(nxt, np.minimum(best + 1, _BIG))
            F[:, :, k] = np.where(vis[:, :, k], cand, _BIG)
        return F

    @cached_property
    def min_handovers(self) -> np.ndarray:
        """Fewest handovers each cell needs over the horizon from ``initial`` (C,); -1 if none."""
        F0 = self.future_min_handovers[:, :, 0]  # noqa: N806
        L = self.L  # noqa: N806
        first = np.zeros((self.C, L), np.int64)
        has = self.init_l != -1
        first[has] = 1
        ok = self.init_l >= 0
        first[np.nonzero(ok)[0], self.init_l[ok]] = 0
        tot = np.where(F0 >= _BIG, _BIG, F0 + first).min(axis=1)
        return np.where(tot >= _BIG, -1, tot)

    def feasibility(self) -> tuple[bool, str]:
        """Check visibility and budgets; ``(ok, message)`` naming the first offending cell."""
        no_vis = ~self.v.any(axis=0)  # (C, K)
        if no_vis.any():
            c, k = np.argwhere(no_vis)[0]
            n_bad = int(no_vis.any(axis=1).sum())
            return False, (
                f"cell {c} has no visible satellite in slot {k} "
                f"({n_bad} cell(s) with such slots)"
            )
        need = self.min_handovers
        over = need > self.budget
        if over.any():
            c = int(np.argmax(need - self.budget))
            return False, (
                f"cell {c} needs at least {need[c]} handovers but its budget is {self.budget[c]} "
                f"({int(over.sum())} cell(s) over budget)"
            )
        return True, "feasible"

    # ------------------------------------------------------------------ conversions
    def assoc_from_l(self, path_l: np.ndarray) -> np.ndarray:
        """Candidate indices (C, K) -> satellite indices (C, K) (``-1`` stays ``-1``)."""
        path_l = np.asarray(path_l)
        sat = np.take_along_axis(self.cand, np.maximum(path_l, 0), axis=1)
        return np.where(path_l >= 0, sat, -1)

    def l_from_assoc(self, assoc: np.ndarray) -> np.ndarray:
        """Satellite indices (C, K) -> candidate indices (C, K); ``-1`` where not a candidate."""
        assoc = np.asarray(assoc)
        inv = np.full((self.C, self.S + 1), -1, np.int64)
        c_idx, l_idx = np.nonzero(self.cand >= 0)
        inv[c_idx, self.cand[c_idx, l_idx]] = l_idx
        return inv[np.arange(self.C)[:, None], np.where(assoc >= 0, assoc, self.S)]

    def describe(self) -> dict[str, Any]:
        """Sizes and load figures as plain data."""
        pairs = int(self.v.sum())
        return {
            "S": self.S, "C": self.C, "K": self.K, "M": self.M, "L": self.L,
            "visible_pairs": pairs, "proxy": self.proxy, "lambda_h": self.lambda_h,
            "budget_total": int(self.budget.sum()),
        }
