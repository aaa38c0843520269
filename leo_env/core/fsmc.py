"""Finite-state Markov channels (FSMC): quantiser, transition matrices, vectorised sampler.

The small-scale power gain ``X = |g|^2`` (unit mean; Rayleigh or Rician with K-factor ``K``) is
quantised into ``N`` levels with equal-probability thresholds ``0 = G_0 < G_1 < ... < G_N = inf``
(``Pr(X in level i) = 1 / N``).  Level ``i`` is represented by the conditional mean
``E[X | G_i <= X < G_{i+1}]``.  Two transition matrices ``P[i, i'] = Pr(level_{t+1} = i' |
level_t = i)`` are offered:

* ``"ar1"`` (default): the exact transition law of the quantised Gauss-Markov fading process
  ``g = m + s c``, ``c_{t+1} = rho c_t + sqrt(1 - rho^2) w``, ``w ~ CN(0, 1)``,
  ``rho = J0(2 pi f_D dt)`` (Clarke/Jakes autocorrelation); given ``g_t``,
  ``2 |g_{t+1}|^2 / sigma^2`` is noncentral chi-square with 2 degrees of freedom, noncentrality
  ``2 |m + rho (g_t - m)|^2 / sigma^2``, ``sigma^2 = s^2 (1 - rho^2)``; the level-pair
  probabilities are integrated by Gauss-Legendre quadrature over ``g_t`` (polar coordinates).
  Valid for every ``f_D dt``; the matrix is full, not tridiagonal.
* ``"lcr"``: Wang & Moayeri's tridiagonal matrix from level-crossing rates,
  ``p_{i,i+1} = N(G_{i+1}) dt / pi_i`` and ``p_{i,i-1} = N(G_i) dt / pi_i``; it is only a
  probability matrix when ``f_D dt`` is small (the function refuses otherwise).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import i0e, j0

from leo_env.core.channel import db_to_linear

__all__ = [
    "fading_distribution",
    "equal_probability_thresholds",
    "level_means",
    "ar1_transition_matrix",
    "lcr_transition_matrix",
    "transition_matrix",
    "sample_levels",
    "empirical_transition_matrix",
]


def _k_linear(model: str, rician_k_db: float) -> float:
    if model == "rayleigh":
        return 0.0
    if model == "rician":
        if not np.isfinite(rician_k_db):
            raise ValueError(f"rician_k_db must be finite, got {rician_k_db}")
        return float(db_to_linear(rician_k_db))
    raise ValueError(f"model must be 'rayleigh' or 'rician', got {model!r}")


def fading_distribution(model: str = "rayleigh", rician_k_db: float = 10.0):
    """Frozen scipy distribution of the unit-mean power gain ``|g|^2``."""
    k = _k_linear(model, rician_k_db)
    s2 = 1.0 / (k + 1.0)
    if k == 0.0:
        return stats.chi2(2, scale=s2 / 2.0)
    return stats.ncx2(2, 2.0 * k, scale=s2 / 2.0)


def _check_levels(n_levels: int) -> None:
    if not (isinstance(n_levels, int | np.integer) and 2 <= n_levels <= 64):
        raise ValueError(f"n_levels must be an integer in [2, 64], got {n_levels}")


def equal_probability_thresholds(
    n_levels: int, model: str = "rayleigh", rician_k_db: float = 10.0
) -> np.ndarray:
    """Equal-probability level thresholds of the unit-mean power gain.

    Shape (N+1,), ``G_0 = 0`` and ``G_N = inf``.
    """
    _check_levels(n_levels)
    dist = fading_distribution(model, rician_k_db)
    q = np.arange(n_levels + 1) / n_levels
    th = dist.ppf(q)
    th[0], th[-1] = 0.0, np.inf
    return th


def level_means(n_levels: int, model: str = "rayleigh", rician_k_db: float = 10.0) -> np.ndarray:
    """Conditional mean power gain of every level, shape (N,) (their average is 1)."""
    th = equal_probability_thresholds(n_levels, model, rician_k_db)
    dist = fading_distribution(model, rician_k_db)
    return np.array(
        [
            dist.expect(lambda x: x, lb=th[i], ub=th[i + 1], conditional=True)
            for i in range(n_levels)
        ]
    )


def _check_fd_dt(fd_dt: float) -> None:
    if not (np.isfinite(fd_dt) and 0 < fd_dt <= 1.0):
        raise ValueError(f"fd_dt (Doppler x slot) must be in (0, 1], got {fd_dt}")


def ar1_transition_matrix(
    n_levels: int,
    fd_dt: float,
    model: str = "rayleigh",
    rician_k_db: float = 10.0,
    n_quad: int = 48,
) -> np.ndarray:
    """Exact transition matrix of the quantised Gauss-Markov fading process (module docstring).

    Parameters
    ----------
    n_levels : int
        Number of equal-probability levels, 2..64.
    fd_dt : float
        Maximum Doppler shift times slot duration ``f_D dt``, in (0, 1].
    model, rician_k_db : str, float
        ``"rayleigh"`` or ``"rician"`` with K-factor [dB].
    n_quad : int
        Gauss-Legendre nodes per level in radius and per half-turn in angle (>= 8).

    Returns
    -------
    ndarray, shape (N, N)
        Row-stochastic matrix.
    """
    _check_fd_dt(fd_dt)
    if n_quad < 8:
        raise ValueError(f"n_quad must be >= 8, got {n_quad}")
    th = equal_probability_thresholds(n_levels, model, rician_k_db)
    k = _k_linear(model, rician_k_db)
    m = np.sqrt(k / (k + 1.0))
    s2 = 1.0 / (k + 1.0)
    rho = float(j0(2.0 * np.pi * fd_dt))
    sig2 = s2 * (1.0 - rho * rho)
    top = float(fading_distribution(model, rician_k_db).ppf(1.0 - 1e-13))
    xr, wr = np.polynomial.legendre.leggauss(n_quad)
    # angle: density symmetric in theta -> integrate [0, pi] and double
    n_ang = 1 if k == 0.0 else n_quad
    xa, wa = np.polynomial.legendre.leggauss(n_ang)
    ang = 0.5 * np.pi * (xa + 1.0)
    wang = 0.5 * np.pi * wa * 2.0
    out = np.zeros((n_levels, n_levels))
    for i in range(n_levels):
        r0, r1 = np.sqrt(th[i]), np.sqrt(min(th[i + 1], top))
        r = 0.5 * (r1 - r0) * (xr + 1.0) + r0
        wrr = 0.5 * (r1 - r0) * wr
        rr, aa = np.meshgrid(r, ang, indexing="ij")
        w = (wrr[:, None] * wang[None, :]) * rr
        if k == 0.0:
            w = w * (2.0 * np.pi / wang.sum())
        gx, gy = rr * np.cos(aa), rr * np.sin(aa)
        dens = np.exp(-((gx - m) ** 2 + gy**2) / s2) / (np.pi * s2)
        mu2 = (m + rho * (gx - m)) ** 2 + (rho * gy) ** 2
        nc = 2.0 * mu2 / sig2
        cdf = np.stack(
            [np.zeros_like(nc)]
            + [stats.ncx2.cdf(2.0 * th[j] / sig2, 2, nc) for j in range(1, n_levels)]
            + [np.ones_like(nc)]
        )
        mass = (w * dens)[None] * np.diff(cdf, axis=0)
        out[i] = mass.sum(axis=(1, 2))
    out = np.clip(out, 0.0, None)
    return out / out.sum(axis=1, keepdims=True)


def _lcr(th: np.ndarray, fd: float, k: float) -> np.ndarray:
    """Level-crossing rate per unit f_D at power thresholds ``th`` (unit-mean power)."""
    x = np.asarray(th, dtype=float)
    if k == 0.0:
        return np.sqrt(2.0 * np.pi * x) * fd * np.exp(-x)
    arg = 2.0 * np.sqrt(k * (k + 1.0) * x)
    # I0(arg) exp(-K - (K+1) x) = i0e(arg) exp(arg - K - (K+1) x)
    return np.sqrt(2.0 * np.pi * (k + 1.0) * x) * fd * i0e(arg) * np.exp(arg - k - (k + 1.0) * x)


def lcr_transition_matrix(
    n_levels: int, fd_dt: float, model: str = "rayleigh", rician_k_db: float = 10.0
) -> np.ndarray:
    """Wang-Moayeri tridiagonal transition matrix from level-crossing rates.

    Raises
    ------
    ValueError
        If ``fd_dt`` is so large that a row would not be a probability vector; the message gives
        the largest admissible ``fd_dt`` for these levels.
    """
    _check_fd_dt(fd_dt)
    th = equal_probability_thresholds(n_levels, model, rician_k_db)
    k = _k_linear(model, rician_k_db)
    inner = _lcr(th[1:-1], 1.0, k) * n_levels  # per unit fd_dt, pi_i = 1/N
    up = np.r_[inner, 0.0]
    down = np.r_[0.0, inner]
    worst = float((up + down).max())
    if fd_dt * worst > 1.0:
        raise ValueError(
            f"fd_dt={fd_dt} gives transition probabilities above 1 for n_levels={n_levels}; "
            f"the LCR model needs fd_dt <= {1.0 / worst:.4f} (use method 'ar1' instead)"
        )
    p = np.diag(1.0 - fd_dt * (up + down))
    idx = np.arange(n_levels - 1)
    p[idx, idx + 1] = fd_dt * up[:-1]
    p[idx + 1, idx] = fd_dt * down[1:]
    return p


def transition_matrix(
    n_levels: int,
    fd_dt: float,
    model: str = "rayleigh",
    rician_k_db: float = 10.0,
    method: str = "ar1",
) -> np.ndarray:
    """Dispatch to :func:`ar1_transition_matrix` or :func:`lcr_transition_matrix`."""
    if method == "ar1":
        return ar1_transition_matrix(n_levels, fd_dt, model, rician_k_db)
    if method == "lcr":
        return lcr_transition_matrix(n_levels, fd_dt, model, rician_k_db)
    raise ValueError(f"method must be 'ar1' or 'lcr', got {method!r}")


def sample_levels(
    rng: np.random.Generator,
    p: np.ndarray,
    n_chains: int,
    n_steps: int,
    init: np.ndarray | None = None,
) -> np.ndarray:
    """Sample ``n_chains`` independent level paths of length ``n_steps``, shape (n_chains, n_steps).

    ``init`` (shape (n_chains,)) fixes the first level; by default it is drawn uniformly (the
    stationary law of equal-probability levels).
    """
    p = np.asarray(p, dtype=float)
    n = p.shape[0]
    if p.shape != (n, n) or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("p must be a square row-stochastic matrix")
    if n_chains < 0 or n_steps < 1:
        raise ValueError(f"n_chains must be >= 0 and n_steps >= 1, got {n_chains}, {n_steps}")
    out = np.empty((n_chains, n_steps), dtype=np.int64)
    if init is None:
        out[:, 0] = rng.integers(0, n, n_chains)
    else:
        init = np.asarray(init, dtype=np.int64)
        if init.shape != (n_chains,) or np.any((init < 0) | (init >= n)):
            raise ValueError(f"init must have shape ({n_chains},) with levels in [0, {n})")
        out[:, 0] = init
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = np.inf
    u = rng.random((n_chains, n_steps - 1))
    for t in range(1, n_steps):
        out[:, t] = (u[:, t - 1, None] >= cum[out[:, t - 1]]).sum(axis=1)
    return out


def empirical_transition_matrix(paths: np.ndarray, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-normalised transition counts of level paths (n_chains, n_steps).

    Returns
    -------
    p_hat : ndarray, shape (N, N)
        Empirical matrix (rows without visits are zero).
    counts : ndarray, shape (N,)
        Number of transitions leaving each level.
    """
    a = np.asarray(paths)[:, :-1].ravel()
    b = np.asarray(paths)[:, 1:].ravel()
    c = np.bincount(a * n_levels + b, minlength=n_levels * n_levels).reshape(n_levels, n_levels)
    rows = c.sum(axis=1)
    return c / np.maximum(rows, 1)[:, None], rows
