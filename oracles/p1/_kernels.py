"""Numba kernels of the fast exact P1 solver (internal).

Everything here works on one satellite at a time in *normalised units*: PRB shares ``n`` and
power shares ``p`` of the satellite's pools (so each pool is 1 per fast slot), served bits as a
fraction of each cell's demand ``D_i``.  With ``ah = alpha P_max / N_PRB`` (the SNR of a PRB
that gets an equal share of the power) and ``G_i = T_f W_PRB N_PRB / (ln 2 D_i)``, cell ``i``
serves ``G_i n log(1 + ah p / n)`` of its demand in a fast slot.

Notation used below: ``omega`` is a spectral efficiency [nat/s/Hz]; ``rho = lambda / mu`` is
the ratio of the PRB price to the power price.  The power per PRB that serves a bit most
cheaply, ``s*(rho, ah) = (exp(omega) - 1) / ah``, has ``omega = 1 + W0((rho ah - 1) / e)``,
i.e. ``omega`` is the root of ``exp(omega) (omega - 1) + 1 = rho ah`` (see :func:`omega_of`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

INF = np.inf

# numpy error model: no zero-division branches around every division (smaller, faster code;
# the kernels guard their own domains), on-disk cache next to the module
_JIT: dict[str, Any] = {"cache": True, "error_model": "numpy"}


@njit(**_JIT)
def _argsort_small(v, order, k):
    """Indices sorting ``v[:k]`` ascending into ``order[:k]`` (insertion sort, small k)."""
    for i in range(k):
        order[i] = i
    for i in range(1, k):
        j = order[i]
        key = v[j]
        pos = i - 1
        while pos >= 0 and v[order[pos]] > key:
            order[pos + 1] = order[pos]
            pos -= 1
        order[pos + 1] = j


# per-satellite status codes (the "path" of the fast solver)
ST_EMPTY = 0  # nothing to serve
ST_CLOSED = 1  # closed form: single pool (even or rescheduled spread) or everybody served
ST_IPM = 2  # primal-dual interior point (binding causality, fading)
ST_IPM_MAXIT = 3  # interior point stopped early (iteration cap or line search); still feasible
ST_PENDING = 4  # closed form does not apply: the interior point must run
ST_SPLIT = 5  # free prefix + uniform-price suffix (binding causality, no interior point)
ST_STAIR = 6  # a staircase of two price blocks found by a short search (no interior point)


@njit(**_JIT)
def omega_of(q):
    """Root ``omega >= 0`` of ``exp(omega) (omega - 1) + 1 = q`` for ``q >= 0``.

    Equals ``1 + W0((q - 1) / e)``; accurate also for tiny ``q`` (where ``omega ~ sqrt(2 q)``).
    """
    if q <= 0.0:
        return 0.0
    s = math.sqrt(2.0 * q)
    if s < 1e-7:
        return s - s * s / 3.0
    if s < 1.0:
        w = s - s * s / 3.0 + 7.0 * s * s * s / 36.0
    else:
        x = (q - 1.0) / math.e
        if x < math.e:
            lx = math.log1p(x)
            w = 1.0 + lx * (1.0 - math.log1p(lx) / (2.0 + lx))
        else:
            l1 = math.log(x)
            l2 = math.log(l1)
            w = 1.0 + l1 - l2 + l2 / l1
    for _ in range(30):
        if w < 0.05:
            # series of exp(w)(w - 1) + 1 = sum_{k>=2} (k - 1) w^k / k!
            w2 = w * w
            f = (
                w2
                * (
                    0.5
                    + w
                    * (
                        1.0 / 3.0
                        + w
                        * (
                            1.0 / 8.0
                            + w * (1.0 / 30.0 + w * (1.0 / 144.0 + w * (1.0 / 840.0 + w / 5760.0)))
                        )
                    )
                )
                - q
            )
        else:
            f = math.expm1(w) * (w - 1.0) + w - q
        ew = math.exp(w)
        f1 = w * ew
        f2 = (w + 1.0) * ew
        den = 2.0 * f1 * f1 - f * f2
        if den <= 0.0:
            step = f / f1
        else:
            step = 2.0 * f * f1 / den
        wn = w - step
        if wn <= 0.0:
            wn = 0.5 * w
        if abs(wn - w) <= 1e-15 * wn:
            return wn
        w = wn
    return w


@njit(**_JIT)
def bit_cost(lam, mu, ah, G):
    """Cheapest cost of one unit of served demand fraction at prices ``(lam, mu)``.

    ``min_s (lam + mu s) / (G log(1 + ah s))``, attained at ``s = expm1(omega) / ah``; equals
    ``mu exp(omega) / (G ah)``.  ``inf`` when the cell cannot be served (``ah = 0``).
    """
    if ah <= 0.0 or G <= 0.0:
        return INF
    if mu <= 0.0:
        return 0.0
    w = omega_of(lam / mu * ah)
    return mu * math.exp(w) / (G * ah)


@njit(**_JIT)
def cell_dual(kappa, ainc, w, eps, cst, order):
    """Value of one cell's Lagrangian subproblem at per-slot bit costs ``kappa``.

    ``max w log(eps + Y) - sum_m kappa_m z_m`` over causal schedules ``z >= 0`` of the demand
    fractions ``ainc`` (arrivals per fast slot, summing to 1): the bits that arrive in slot
    ``tau`` are served at the cheapest later slot, ``min_{m >= tau} kappa_m``, cheapest first.
    ``cst`` and ``order`` are work arrays of length M.
    """
    M = kappa.shape[0]
    run = INF
    for m in range(M - 1, -1, -1):
        if kappa[m] < run:
            run = kappa[m]
        cst[m] = run
    _argsort_small(cst, order, M)
    Y = 0.0
    C = 0.0
    for k in range(M):
        m = order[k]
        am = ainc[m]
        if am <= 0.0:
            continue
        c = cst[m]
        if c <= 0.0:
            Y += am
            continue
        if c == INF:
            break
        ystar = w / c - eps
        if ystar <= Y:
            break
        if ystar < Y + am:
            C += c * (ystar - Y)
            Y = ystar
            break
        C += c * am
        Y += am
    return w * math.log(eps + Y) - C


@njit(**_JIT)
def dual_value(ah, ainc, G, w, eps, lam, mu):
    """Lagrangian dual function of one satellite's problem (an upper bound on its utility).

    Parameters
    ----------
    ah : (nc, M) normalised SNRs; ainc : (nc, M) arrivals as demand fractions; G, w : (nc,)
    eps : float; lam, mu : (M,) prices of the PRB and power pools (normalised units, >= 0).
    """
    nc, M = ah.shape
    val = 0.0
    for m in range(M):
        val += lam[m] + mu[m]
    kappa = np.empty(M)
    cst = np.empty(M)
    order = np.empty(M, dtype=np.int64)
    for i in range(nc):
        for m in range(M):
            if m > 0 and lam[m] == lam[m - 1] and mu[m] == mu[m - 1] and ah[i, m] == ah[i, m - 1]:
                kappa[m] = kappa[m - 1]  # uniform prices without fading: same cost
            else:
                kappa[m] = bit_cost(lam[m], mu[m], ah[i, m], G[i])
        val += cell_dual(kappa, ainc[i], w[i], eps, cst, order)
    return val


# ----------------------------------------------------------------------------------------------
# single pool (uniform prices over the fast slots)
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def _pool_eval(rho, ah, Gp, w, eps, om, s, nu, pi, beta, xi, vals, order):
    """Allocation of the single-pool problem at price ratio ``rho``; returns ``(F, mu, dF)``.

    ``mu`` makes the power pool exact (or is 0 when serving everybody needs less power);
    ``F = sum_i n_i - 1`` is the PRB excess and ``dF`` its derivative in ``log rho`` (with
    ``d omega / d log rho = rho ah / (omega e^omega)``, the cells' set -- satisfied, partly
    served, unserved -- held fixed; one-sided at a breakpoint).  Fills ``om, s, nu, pi, beta, xi``; ``om`` holds
    the previous ``rho``'s spectral efficiencies on entry (Halley's warm start,
    :func:`_omega_warm`; zeros: solved cold).
    """
    nc = ah.shape[0]
    ptot = 0.0
    for i in range(nc):
        q = rho * ah[i]
        o = _omega_warm(q, om[i])  # from the previous rho's root
        if o <= 0.0:
            o = 1e-300
        om[i] = o
        s[i] = math.expm1(o) / ah[i]
        nu[i] = 1.0 / (Gp[i] * o)
        pi[i] = s[i] * nu[i]
        beta[i] = w[i] * Gp[i] * ah[i] * math.exp(-o)
        ptot += pi[i]
    if ptot <= 1.0:
        mu = 0.0
        for i in range(nc):
            xi[i] = 1.0
    else:
        # power(mu) = sum_i pi_i clip(beta_i / mu - eps, 0, 1) is decreasing; breakpoints
        for i in range(nc):
            vals[2 * i] = beta[i] / eps  # above: cell i gets nothing
            vals[2 * i + 1] = beta[i] / (1.0 + eps)  # below: cell i is satisfied
        for k_ in range(2 * nc):
            vals[k_] = -vals[k_]
        _argsort_small(vals, order, 2 * nc)
        for k_ in range(2 * nc):
            vals[k_] = -vals[k_]
        A = 0.0
        Bc = 0.0
        cur = INF
        mu = -1.0
        for k in range(2 * nc):
            e = order[k]
            lo = vals[e]
            if Bc > 0.0 and A < 1.0:
                cand = Bc / (1.0 - A)
                if cand >= lo and cand <= cur:
                    mu = cand
                    break
            i = e // 2
            if e % 2 == 0:
                A -= pi[i] * eps
                Bc += pi[i] * beta[i]
            else:
                A += pi[i] * (1.0 + eps)
                Bc -= pi[i] * beta[i]
            cur = lo
        if mu < 0.0:
            # numerical corner: fall back to bisection on log mu
            mlo = 1e-300
            mhi = 0.0
            for i in range(nc):
                mhi = max(mhi, beta[i] / eps)
            for _ in range(200):
                mid = math.sqrt(mlo * mhi) if mlo > 0 else 0.5 * mhi
                pw = 0.0
                for i in range(nc):
                    pw += pi[i] * min(1.0, max(0.0, beta[i] / mid - eps))
                if pw > 1.0:
                    mlo = mid
                else:
                    mhi = mid
                if mhi - mlo <= 1e-15 * mhi:
                    break
            mu = mhi
        for i in range(nc):
            xi[i] = min(1.0, max(0.0, beta[i] / mu - eps))
    F = -1.0
    for i in range(nc):
        F += nu[i] * xi[i]
    # derivative: d omega (vals[:nc]) and d pi (vals[nc:]) per cell, then mu's through
    # mu = Bc / (1 - A) over the partly served cells
    A = 0.0
    dA = 0.0
    Bc = 0.0
    dB = 0.0
    for i in range(nc):
        o = om[i]
        do = rho * ah[i] * math.exp(-o) / o
        dpi = (nu[i] * (1.0 + s[i] * ah[i]) / ah[i] - pi[i] / o) * do
        vals[i] = do
        vals[nc + i] = dpi
        if mu > 0.0:
            if xi[i] >= 1.0:
                A += pi[i]
                dA += dpi
            elif xi[i] > 0.0:
                A -= eps * pi[i]
                dA -= eps * dpi
                Bc += pi[i] * beta[i]
                dB += dpi * beta[i] - pi[i] * beta[i] * do
    dmu = 0.0
    if mu > 0.0 and Bc > 0.0 and A < 1.0:
        dmu = (dB * (1.0 - A) + Bc * dA) / ((1.0 - A) * (1.0 - A))
    dF = 0.0
    for i in range(nc):
        do = vals[i]
        dnu = -nu[i] / om[i] * do
        if mu == 0.0 or xi[i] >= 1.0:
            dF += dnu
        elif xi[i] > 0.0:
            dxi = -beta[i] * do / mu - beta[i] * dmu / (mu * mu)
            dF += dnu * xi[i] + nu[i] * dxi
    return F, mu, dF


@njit(**_JIT)
def single_pool(ah, Gp, w, eps, xi, nsh, psh):
    """Exact single-pool problem ``max sum w log(eps + xi)`` with one PRB and one power pool.

    Serving ``xi_i`` needs ``n_i = xi_i / (Gp_i omega_i)`` PRB shares at ``s_i`` power per PRB.
    Solves for the price ratio ``rho`` on ``log rho`` (the PRB excess is decreasing in
    ``rho``): Newton steps near the root, a bracketed Illinois iteration otherwise; the power
    price ``mu`` in closed form at each ``rho``.

    Returns ``(lam, mu, iterations)`` and fills ``xi``, ``nsh`` (PRB shares) and ``psh``.
    """
    nc = ah.shape[0]
    om = np.zeros(nc)  # 0: the first omega is solved cold
    s = np.empty(nc)
    nu = np.empty(nc)
    pi = np.empty(nc)
    beta = np.empty(nc)
    vals = np.empty(2 * nc)
    order = np.empty(2 * nc, dtype=np.int64)
    # initial guess: rho giving one unit of power per PRB share (s = 1)
    lr = 0.0
    for i in range(nc):
        o = math.log1p(ah[i])
        lr += math.log((math.exp(o) * (o - 1.0) + 1.0 + 1e-300) / ah[i])
    lr /= nc
    # Newton on log rho (F decreasing) near the root (|F| < 0.25 and falling at least 4x per
    # step), inside the bracket [lo, hi] (F(lo) > 0 > F(hi)); otherwise Illinois-modified
    # regula falsi on the bracket, or steps of 0.01, 0.04, ... outwards until it exists (on
    # environment traffic the root is within ~0.01 of the start; Newton takes ~4 evaluations)
    x = lr
    F, mu, dF = _pool_eval(math.exp(x), ah, Gp, w, eps, om, s, nu, pi, beta, xi, vals, order)
    it = 1
    lo = -INF
    flo = 0.0
    hi = INF
    fhi = 0.0
    side = 0
    step = 0.01
    Fprev = INF
    while it < 200 and abs(F) > 1e-15:
        if F > 0.0:
            if side == -1:
                fhi *= 0.5
            lo = x
            flo = F
            side = -1
        else:
            if side == 1:
                flo *= 0.5
            hi = x
            fhi = F
            side = 1
        bracketed = lo > -INF and hi < INF
        if bracketed and hi - lo <= 1e-15 * max(1.0, abs(lo)):
            break
        xn = math.nan
        if dF < 0.0 and abs(F) < 0.25 and abs(F) < 0.25 * Fprev:
            xn = x - F / dF
        if not (xn > lo and xn < hi):
            if bracketed:
                xn = (lo * fhi - hi * flo) / (fhi - flo)
                if not (xn > lo and xn < hi):
                    xn = 0.5 * (lo + hi)
            else:
                xn = x + step if F > 0.0 else x - step
                step *= 4.0
        if abs(xn - x) <= 1e-15 * max(1.0, abs(x)):
            break
        Fprev = abs(F)
        x = xn
        F, mu, dF = _pool_eval(math.exp(x), ah, Gp, w, eps, om, s, nu, pi, beta, xi, vals, order)
        it += 1
    rho = math.exp(x)
    scale = 1.0 / (1.0 + F) if F > 0.0 else 1.0
    for i in range(nc):
        nsh[i] = nu[i] * xi[i] * scale
        psh[i] = s[i] * nu[i] * xi[i]
    return rho * mu, mu, it


@njit(**_JIT)
def _gcm(Acum, target, M, out):
    """Greatest convex minorant of ``(0, 0), (m, Acum[m-1]) ..., (M, target)``: increments.

    The most even causal schedule serving ``target`` (<= Acum[M-1]); ``out[m]`` is what it
    serves in slot m.
    """
    # points k = 0..M with values v_k
    hx = np.empty(M + 1, dtype=np.int64)
    hy = np.empty(M + 1)
    nh = 0
    for k in range(M + 1):
        if k == 0:
            v = 0.0
        elif k == M:
            v = target
        else:
            v = Acum[k - 1]
        while nh >= 2:
            x1 = hx[nh - 2]
            y1 = hy[nh - 2]
            x2 = hx[nh - 1]
            y2 = hy[nh - 1]
            # remove middle point if it lies on or above the chord
            if (y2 - y1) * (k - x1) >= (v - y1) * (x2 - x1):
                nh -= 1
            else:
                break
        hx[nh] = k
        hy[nh] = v
        nh += 1
    for j in range(nh - 1):
        x1 = hx[j]
        x2 = hx[j + 1]
        sl = (hy[j + 1] - hy[j]) / (x2 - x1)
        for m in range(x1, x2):
            out[m] = sl


@njit(**_JIT)
def schedule_uniform(xi, nsh, psh, Acum, nmat, pmat):
    """Spread the single-pool solution over the fast slots without breaking causality.

    Cells whose even spreading would serve bits before they arrive follow their most even
    causal schedule; the others absorb the difference so that every slot uses the same PRB and
    power totals (minimum-norm split).  Returns True and fills ``nmat, pmat`` (nc, M) on
    success; False when no such schedule was found (the caller then runs the barrier method).
    """
    nc, M = Acum.shape
    tight = np.zeros(nc, dtype=np.bool_)
    anyt = False
    for i in range(nc):
        if xi[i] <= 0.0:
            continue
        for m in range(M - 1):
            if xi[i] * (m + 1) / M > Acum[i, m] * (1.0 + 1e-13) + 1e-300:
                tight[i] = True
                anyt = True
                break
    for i in range(nc):
        for m in range(M):
            nmat[i, m] = nsh[i]
            pmat[i, m] = psh[i]
    if not anyt:
        return True
    inc = np.empty(M)
    dr = np.zeros(M)
    dq = np.zeros(M)
    for i in range(nc):
        if not tight[i]:
            continue
        _gcm(Acum[i], xi[i], M, inc)
        for m in range(M):
            nn = nsh[i] * inc[m] * M / xi[i]
            pp = psh[i] * inc[m] * M / xi[i]
            dr[m] += nsh[i] - nn
            dq[m] += psh[i] - pp
            nmat[i, m] = nn
            pmat[i, m] = pp
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for j in range(nc):
        if tight[j] or nsh[j] <= 0.0:
            continue
        sj = psh[j] / nsh[j]
        s0 += nsh[j]
        s1 += nsh[j] * sj
        s2 += nsh[j] * sj * sj
    if s0 <= 0.0:
        return False
    det = s0 * s2 - s1 * s1
    for m in range(M):
        if det > 1e-12 * s0 * s2:
            c1 = (s2 * dr[m] - s1 * dq[m]) / det
            c2 = (s0 * dq[m] - s1 * dr[m]) / det
        else:
            sbar = s1 / s0
            if abs(dq[m] - sbar * dr[m]) > 1e-12 * (abs(dq[m]) + abs(dr[m]) + 1e-300):
                return False
            c1 = dr[m] / s0
            c2 = 0.0
        for j in range(nc):
            if tight[j] or nsh[j] <= 0.0:
                continue
            sj = psh[j] / nsh[j]
            f = 1.0 + c1 + c2 * sj
            if f < 0.0:
                return False
            nmat[j, m] = nsh[j] * f
            pmat[j, m] = psh[j] * f
    # causality of the absorbing cells
    for j in range(nc):
        if tight[j] or nsh[j] <= 0.0:
            continue
        cum = 0.0
        for m in range(M - 1):
            cum += nmat[j, m] / nsh[j] * xi[j] / M
            if cum > Acum[j, m] * (1.0 + 1e-13) + 1e-300:
                return False
    return True


@njit(**_JIT)
def _slot_fill(c1, c2, t, s, U, n):
    """``n_i = clip(t_i (1 + c1 + c2 s_i), 0, U_i)``; returns ``(sum n, sum s n)``."""
    sn = 0.0
    sp = 0.0
    for i in range(t.shape[0]):
        v = t[i] * (1.0 + c1 + c2 * s[i])
        v = min(max(v, 0.0), U[i])
        n[i] = v
        sn += v
        sp += s[i] * v
    return sn, sp


@njit(**_JIT)
def _slot_c1(c2, t, s, U, PN, n):
    """Shift ``c1`` making ``sum n = PN`` at a given ``c2`` (Illinois on a monotone function).

    Returns ``(c1, sum s n, ok)``; ``ok`` is False when no ``c1`` fits (caps too small).
    """
    nc = t.shape[0]
    lo = INF
    hi = -INF
    for i in range(nc):
        if t[i] > 0.0:
            lo = min(lo, -1.0 - c2 * s[i])
            hi = max(hi, U[i] / t[i] - 1.0 - c2 * s[i])
    flo = -PN
    fhi, sp = _slot_fill(hi, c2, t, s, U, n)
    fhi -= PN
    if fhi < -1e-13 * PN:
        return hi, sp, False
    side = 0
    c1 = hi
    for _ in range(100):
        if fhi <= 1e-15 * PN:
            c1 = hi
            break
        c1 = (lo * fhi - hi * flo) / (fhi - flo)
        if not (c1 > lo and c1 < hi):
            c1 = 0.5 * (lo + hi)
        f, sp = _slot_fill(c1, c2, t, s, U, n)
        f -= PN
        if abs(f) <= 1e-15 * PN or hi - lo <= 1e-16 * (abs(lo) + abs(hi)):
            break
        if f < 0.0:
            lo = c1
            flo = f
            if side == -1:
                fhi *= 0.5
            side = -1
        else:
            hi = c1
            fhi = f
            if side == 1:
                flo *= 0.5
            side = 1
    _, sp = _slot_fill(c1, c2, t, s, U, n)
    return c1, sp, True


@njit(**_JIT)
def schedule_greedy(xi, nsh, psh, Acum, nmat, pmat):
    """Causal schedule of the single-pool solution with per-slot pool totals kept, if found.

    Goes forward in time.  In slot ``m`` every cell aims at an even spread of its remaining
    PRBs over the remaining slots, capped by what causality still allows it; the caps are
    absorbed by the two-parameter correction ``n_i = clip(t_i (1 + c1 + c2 s_i), 0, cap_i)``
    (``s_i`` the cell's power per PRB) that keeps the slot's PRB and power totals equal to the
    single-pool ones (``c1`` by an Illinois search at each ``c2``, ``c2`` by an outer one; both
    sums are monotone).  Success means every cell gets its single-pool PRBs and power per PRB,
    so the allocation attains the uniform-price dual bound (optimal).  Returns True and fills
    ``nmat, pmat`` (nc, M) on success.
    """
    nc, M = Acum.shape
    PN = 0.0
    PP = 0.0
    s = np.zeros(nc)
    W = np.empty(nc)
    cum = np.zeros(nc)
    tot = np.empty(nc)
    for i in range(nc):
        PN += nsh[i]
        PP += psh[i]
        tot[i] = M * nsh[i]
        W[i] = tot[i]
        if nsh[i] > 0.0:
            s[i] = psh[i] / nsh[i]
    t = np.empty(nc)
    U = np.empty(nc)
    n = np.empty(nc)
    for m in range(M):
        rem = M - m
        for i in range(nc):
            t[i] = W[i] / rem
            if m == M - 1 or xi[i] <= 0.0:
                U[i] = W[i]
            else:
                cap = Acum[i, m] * tot[i] / xi[i] * (1.0 - 1e-13) - cum[i]
                U[i] = min(W[i], max(cap, 0.0))
        if m == M - 1:
            for i in range(nc):
                n[i] = W[i]
        else:
            # outer Illinois on c2: the power total is nondecreasing in c2
            c1, sp, ok = _slot_c1(0.0, t, s, U, PN, n)
            if not ok:
                return False
            f0 = sp - PP
            if abs(f0) > 1e-14 * PP:
                a_ = 0.0
                fa = f0
                step = 1.0
                b_ = a_
                fb = fa
                found = False
                for _ in range(60):
                    b_ = a_ - step if fa > 0.0 else a_ + step
                    c1, sp, ok = _slot_c1(b_, t, s, U, PN, n)
                    if not ok:
                        return False
                    fb = sp - PP
                    if (fb > 0.0) != (fa > 0.0) or fb == 0.0:
                        found = True
                        break
                    a_ = b_
                    fa = fb
                    step *= 2.0
                if not found:
                    return False
                lo, flo, hi, fhi = (a_, fa, b_, fb) if a_ < b_ else (b_, fb, a_, fa)
                side = 0
                for _ in range(100):
                    c2 = (lo * fhi - hi * flo) / (fhi - flo)
                    if not (c2 > lo and c2 < hi):
                        c2 = 0.5 * (lo + hi)
                    c1, sp, ok = _slot_c1(c2, t, s, U, PN, n)
                    if not ok:
                        return False
                    f = sp - PP
                    if abs(f) <= 1e-14 * PP or hi - lo <= 1e-16 * (abs(lo) + abs(hi)):
                        break
                    if f < 0.0:
                        lo = c2
                        flo = f
                        if side == -1:
                            fhi *= 0.5
                        side = -1
                    else:
                        hi = c2
                        fhi = f
                        if side == 1:
                            flo *= 0.5
                        side = 1
        sn = 0.0
        sp = 0.0
        for i in range(nc):
            sn += n[i]
            sp += s[i] * n[i]
        if abs(sn - PN) > 1e-10 * PN or abs(sp - PP) > 1e-10 * PP:
            return False
        for i in range(nc):
            nmat[i, m] = n[i]
            pmat[i, m] = s[i] * n[i]
            W[i] = max(W[i] - n[i], 0.0)
            cum[i] += n[i]
    return True


@njit(**_JIT)
def _slot_power(zeta, ah, q, om):
    """PRB excess and power of serving ``q_i`` nat-PRBs per cell at PRB/power price ratio zeta.

    Fills ``om`` with the spectral efficiencies; on entry it holds the previous ``zeta``'s (a
    warm start for :func:`_omega_warm`; zeros: solved cold).
    """
    nsum = -1.0
    psum = 0.0
    for i in range(ah.shape[0]):
        if q[i] <= 0.0:
            om[i] = 0.0
            continue
        o = _omega_warm(zeta * ah[i], om[i])  # previous zeta's root
        if o <= 0.0:
            o = 1e-300
        om[i] = o
        ni = q[i] / o
        nsum += ni
        psum += ni * math.expm1(o) / ah[i]
    return nsum, psum


@njit(**_JIT)
def _fill_slot(ah, q, om, nout, pout):
    for i in range(ah.shape[0]):
        if q[i] > 0.0:
            nout[i] = q[i] / om[i]
            pout[i] = nout[i] * math.expm1(om[i]) / ah[i]
        else:
            nout[i] = 0.0
            pout[i] = 0.0


@njit(**_JIT)
def min_power_slot(ah, q, nout, pout, first_feasible=False):
    """Least power that serves ``q_i`` nat-PRBs (demand / G) per cell within one PRB pool.

    At PRB price ratio ``zeta`` each cell runs at ``omega_i = omega(zeta ah_i)`` nats per PRB;
    ``zeta`` is chosen so that the PRB pool is used exactly (more PRBs never cost power).
    Fills ``nout, pout`` and returns the total power share (feasible iff <= 1).

    With ``first_feasible``, the search stops at the first ``zeta`` it evaluates whose
    allocation fits both pools (PRB excess <= 0 and power <= 1) and returns that allocation
    (feasible, not necessarily least power).  The least power exceeds 1 exactly when no
    ``zeta`` fits, so the feasibility verdict is the same.
    """
    nc = ah.shape[0]
    om = np.zeros(nc)  # 0: the first omega is solved cold
    tot = 0.0
    for i in range(nc):
        tot += q[i]
    if tot <= 0.0:
        for i in range(nc):
            nout[i] = 0.0
            pout[i] = 0.0
        return 0.0
    # initial guess: the common spectral efficiency if PRBs were shared in proportion to q
    o0 = max(tot, 1e-12)
    a0 = 0.0
    for i in range(nc):
        if q[i] > 0.0:
            a0 += q[i] * math.log(ah[i])
    a0 = math.exp(a0 / tot)
    x0 = math.log((math.expm1(o0) * (o0 - 1.0) + o0 + 1e-300) / a0)
    f0, ps = _slot_power(math.exp(x0), ah, q, om)
    if first_feasible and f0 <= 0.0 and ps <= 1.0:
        _fill_slot(ah, q, om, nout, pout)
        return ps
    step = 1.0
    x1 = x0
    f1 = f0
    for _ in range(200):
        x1 = x0 + step if f0 > 0.0 else x0 - step
        f1, ps = _slot_power(math.exp(x1), ah, q, om)
        if first_feasible and f1 <= 0.0 and ps <= 1.0:
            _fill_slot(ah, q, om, nout, pout)
            return ps
        if (f1 > 0.0) != (f0 > 0.0) or f1 == 0.0:
            break
        if x1 < -700.0 or x1 > 700.0:
            break
        x0 = x1
        f0 = f1
        step *= 2.0
    if (f1 > 0.0) == (f0 > 0.0) and f1 != 0.0:
        if f1 > 0.0:
            return INF  # does not fit even at enormous spectral efficiency
        x1 = -700.0  # the pool is never filled: q is negligible
    lo, flo, hi, fhi = (x0, f0, x1, f1) if x0 < x1 else (x1, f1, x0, f0)
    side = 0
    for _ in range(200):
        if hi - lo <= 1e-14 * max(1.0, abs(lo)) or flo == 0.0 or fhi == 0.0:
            break
        x = (lo * fhi - hi * flo) / (fhi - flo)
        if not (x > lo and x < hi):
            x = 0.5 * (lo + hi)
        fx, ps = _slot_power(math.exp(x), ah, q, om)
        if first_feasible and fx <= 0.0 and ps <= 1.0:
            _fill_slot(ah, q, om, nout, pout)
            return ps
        if abs(fx) <= 1e-15:
            lo = hi = x
            break
        if fx > 0.0:
            lo = x
            flo = fx
            if side == -1:
                fhi *= 0.5
            side = -1
        else:
            hi = x
            fhi = fx
            if side == 1:
                flo *= 0.5
            side = 1
    x = hi
    _, psum = _slot_power(math.exp(x), ah, q, om)
    _fill_slot(ah, q, om, nout, pout)
    return psum


@njit(**_JIT)
def _max_fraction(ah, q, nout, pout, stop_at_one, rtol, state):
    """:func:`max_fraction_slot` with a warm start and the root's ``log zeta`` returned.

    Starts at ``log zeta = state[0]`` when finite (e.g. the previous slot's root) and writes
    the ``log zeta`` it ends at to ``state[0]``; ``stop_at_one`` and ``rtol`` as there.
    """
    nc = ah.shape[0]
    om = np.zeros(nc)  # 0: the first omega is solved cold
    tot = 0.0
    a0 = 0.0
    for i in range(nc):
        if q[i] > 0.0:
            tot += q[i]
            a0 += q[i] * math.log(ah[i])
    if tot <= 0.0:
        for i in range(nc):
            nout[i] = 0.0
            pout[i] = 0.0
        return 0.0
    # start: the power per PRB share that makes an equal-efficiency cell use both pools alike
    step = 1.0
    if math.isfinite(state[0]):
        x0 = state[0]
        step = 0.125
    else:
        a0 = math.exp(a0 / tot)
        o0 = math.log1p(a0)
        x0 = math.log((math.expm1(o0) * (o0 - 1.0) + o0 + 1e-300) / a0)
    state[0] = x0
    f, ps = _slot_power(math.exp(x0), ah, q, om)
    f0 = ps - (f + 1.0)
    if stop_at_one and f <= 0.0 and ps <= 1.0:
        _fill_slot(ah, q, om, nout, pout)
        return 1.0 / max(f + 1.0, ps, 1e-300)
    x1 = x0
    f1 = f0
    for _ in range(200):
        x1 = x0 + step if f0 < 0.0 else x0 - step
        f, ps = _slot_power(math.exp(x1), ah, q, om)
        f1 = ps - (f + 1.0)
        if stop_at_one and f <= 0.0 and ps <= 1.0:
            state[0] = x1
            _fill_slot(ah, q, om, nout, pout)
            return 1.0 / max(f + 1.0, ps, 1e-300)
        if (f1 > 0.0) != (f0 > 0.0) or f1 == 0.0 or x1 < -700.0 or x1 > 700.0:
            break
        x0 = x1
        f0 = f1
        step *= 2.0
    lo, flo, hi, fhi = (x0, f0, x1, f1) if x0 < x1 else (x1, f1, x0, f0)
    x = hi
    side = 0
    if (flo > 0.0) != (fhi > 0.0):
        for _ in range(200):
            if hi - lo <= rtol * max(1.0, abs(lo)) or flo == 0.0 or fhi == 0.0:
                break
            x = (lo * fhi - hi * flo) / (fhi - flo)
            if not (x > lo and x < hi):
                x = 0.5 * (lo + hi)
            f, ps = _slot_power(math.exp(x), ah, q, om)
            fx = ps - (f + 1.0)
            if stop_at_one and f <= 0.0 and ps <= 1.0:
                state[0] = x
                _fill_slot(ah, q, om, nout, pout)
                return 1.0 / max(f + 1.0, ps, 1e-300)
            if abs(fx) <= 1e-15 * (ps + f + 1.0):
                break
            if fx < 0.0:
                lo = x
                flo = fx
                if side == -1:
                    fhi *= 0.5
                side = -1
            else:
                hi = x
                fhi = fx
                if side == 1:
                    flo *= 0.5
                side = 1
    state[0] = x
    f, ps = _slot_power(math.exp(x), ah, q, om)
    used = max(f + 1.0, ps)
    theta = (1.0 - 1e-13) / used
    _fill_slot(ah, q, om, nout, pout)
    for i in range(nc):
        nout[i] *= theta
        pout[i] *= theta
    return theta


@njit(**_JIT)
def _store_slot(nn, pp, nmat, pmat, m):
    """Slot ``m``'s PRB shares (scaled down to sum 1 when above) and power shares into the schedules."""
    sn = 0.0
    for i in range(nn.shape[0]):
        sn += nn[i]
    fn = 1.0 / sn if sn > 1.0 else 1.0
    for i in range(nn.shape[0]):
        nmat[i, m] = nn[i] * fn
        pmat[i, m] = pp[i]


@njit(**_JIT)
def _forward_slot(m, ah, ainc, G, back, q, ahm, nn, pp, zstate, nmat, pmat):
    """One slot of the forward pass (docs/p1.md sections 4b, 4c).

    Slot ``m`` serves the backlog ``back``, or the largest common fraction of it that fits the
    pools.  Adds the slot's arrivals to ``back`` and removes what is served, writes the slot's PRB and
    power shares to ``nmat[:, m]``, ``pmat[:, m]`` and returns the backlog left after it.
    """
    nc = back.shape[0]
    left = 0.0
    for i in range(nc):
        back[i] += ainc[i, m]
        q[i] = back[i] / G[i] * (1.0 + 1e-12)
        ahm[i] = ah[i, m]
    th = _max_fraction(ahm, q, nn, pp, True, 1e-9, zstate)
    if th >= 1.0:
        for i in range(nc):
            back[i] = 0.0
    else:
        lo = th / (1.0 + 1e-12)
        for i in range(nc):
            back[i] *= 1.0 - lo
            left += back[i]
    _store_slot(nn, pp, nmat, pmat, m)
    return left


@njit(**_JIT)
def max_fraction_slot(ah, q, nout, pout, stop_at_one=False, rtol=1e-14):
    """Largest ``theta`` such that ``theta q_i`` nat-PRBs per cell fit one slot's two pools.

    At the largest fraction both pools are full: at PRB price ratio ``zeta`` every cell runs at
    ``omega_i = omega(zeta ah_i)``, using ``q_i / omega_i`` PRB shares and ``expm1(omega_i) /
    ah_i`` power per PRB; power minus PRBs is increasing in ``zeta``, and its root (Illinois on
    ``log zeta``) gives ``theta = 1 / (PRBs used)``.  Fills ``nout, pout`` with the allocation
    serving ``theta q`` (both sums <= 1) and returns ``theta`` (0 if nothing is asked).

    With ``stop_at_one``, the search stops at the first ``zeta`` whose allocation of ``q``
    itself fits both pools, and returns ``1 / (larger pool use)`` (>= 1; not the largest
    fraction) with that allocation of ``q`` (the feasibility verdict ``theta >= 1`` is the
    same).  The root is found to ``rtol`` in ``log zeta``; any ``zeta`` gives a feasible
    ``theta``, the root the largest.
    """
    state = np.full(1, np.nan)
    return _max_fraction(ah, q, nout, pout, stop_at_one, rtol, state)


@njit(**_JIT)
def _even_peaks(Acum, G, inc, q):
    """Most even causal schedules of every cell in full and their largest slot.

    Fills ``inc`` (nc, M) with each cell's greatest-convex-minorant increments (:func:`_gcm`)
    and ``q`` (nc) with its largest increment in nat-PRBs (``/ G``, with a 1e-12 margin), and
    returns ``sum q``.  The increments of a convex minorant grow with ``m``, so the last slot
    asks the most of every cell at once.
    """
    nc, M = Acum.shape
    row = np.empty(M)
    tot = 0.0
    for i in range(nc):
        _gcm(Acum[i], 1.0, M, row)
        mx = 0.0
        for m in range(M):
            inc[i, m] = row[m]
            if row[m] > mx:
                mx = row[m]
        q[i] = mx / G[i] * (1.0 + 1e-12)
        tot += q[i]
    return tot


@njit(**_JIT)
def _equal_efficiency_fits(ah0, q, tot, nn):
    """True (and PRB shares ``nn = q / tot``) if equal spectral efficiencies serve ``q``.

    Every cell at ``tot = sum q`` nats per PRB fills the PRB pool exactly and needs power
    ``expm1(tot) / tot sum_i q_i / ah0_i``; if that is <= 1 the slot fits with no root search.
    """
    if not tot > 0.0:
        return False
    sa = 0.0
    for i in range(ah0.shape[0]):
        sa += q[i] / ah0[i]
    if not math.expm1(tot) / tot * sa <= 1.0:
        return False
    for i in range(ah0.shape[0]):
        nn[i] = q[i] / tot
    return True


@njit(**_JIT)
def _min_power_fits(ah0, q, nn):
    """True (and PRB shares ``nn``, sum <= 1) if ``q`` nat-PRBs per cell fit one slot's pools."""
    nc = ah0.shape[0]
    pp = np.empty(nc)
    pw = min_power_slot(ah0, q, nn, pp, True)
    if not pw <= 1.0:
        return False
    sn = 0.0
    for i in range(nc):
        sn += nn[i]
    if sn > 1.0:
        for i in range(nc):
            nn[i] /= sn
    return True


@njit(**_JIT)
def _serve_even(ah, inc, G, nn, nmat, pmat):
    """Constant PRB shares ``nn`` in every slot, each cell's power cut to its slot's increment.

    ``nn`` serves every cell's largest increment within both pools (constant gains ``ah[:, 0]``);
    a smaller increment needs less power at the same PRBs, so every slot fits.
    """
    nc, M = inc.shape
    for i in range(nc):
        ni = nn[i]
        for m in range(M):
            nmat[i, m] = ni
            if ni > 0.0:
                pmat[i, m] = ni * math.expm1(inc[i, m] / G[i] * (1.0 + 1e-12) / ni) / ah[i, 0]
            else:
                pmat[i, m] = 0.0


@njit(**_JIT)
def schedule_all_satisfied(ah, Acum, G, nmat, pmat):
    """Serve every cell in full with its most even causal schedule, if the pools allow.

    Returns True (and fills ``nmat, pmat``) when every fast slot's minimum-power allocation
    fits the power pool; then the utility is the largest possible and the schedule is optimal.
    With constant gains the last slot asks the most of every cell (:func:`_even_peaks`), so
    it alone decides, and its PRB shares serve every slot (:func:`_serve_even`).  With fading
    each slot takes the first allocation found that fits both pools (the minimum-power search
    stops there); it is feasible iff the minimum-power one is.
    """
    nc, M = Acum.shape
    inc = np.empty((nc, M))
    if not _is_fading(ah):
        q = np.empty(nc)
        nn = np.empty(nc)
        tot = _even_peaks(Acum, G, inc, q)
        ah0 = ah[:, 0].copy()
        if not (_equal_efficiency_fits(ah0, q, tot, nn) or _min_power_fits(ah0, q, nn)):
            return False
        _serve_even(ah, inc, G, nn, nmat, pmat)
        return True
    row = np.empty(M)
    for i in range(nc):
        _gcm(Acum[i], 1.0, M, row)
        for m in range(M):
            inc[i, m] = row[m]
    q = np.empty(nc)
    nn = np.empty(nc)
    pp = np.empty(nc)
    ahm = np.empty(nc)
    for m in range(M):
        same = m > 0
        for i in range(nc):
            q[i] = inc[i, m] / G[i] * (1.0 + 1e-12)
            ahm[i] = ah[i, m]
            if same and (inc[i, m] != inc[i, m - 1] or ah[i, m] != ah[i, m - 1]):
                same = False
        if same:
            # same service and gains as the previous slot (the most even schedules are
            # piecewise constant): same allocation, already checked
            for i in range(nc):
                nmat[i, m] = nmat[i, m - 1]
                pmat[i, m] = pmat[i, m - 1]
            continue
        # any allocation that fits both pools serves everybody in full (optimal)
        pw = min_power_slot(ahm, q, nn, pp, True)
        if not pw <= 1.0:
            return False
        _store_slot(nn, pp, nmat, pmat, m)
    return True


# ----------------------------------------------------------------------------------------------
# barrier method for one satellite (general case: binding causality, fading)
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def _chol_inplace(A, k):
    """Cholesky of the leading k x k block of A in place (lower); False if not PD.

    A pivot that cancellation drove to (or below) ``1e-13`` of its diagonal entry is raised to
    that floor (static regularisation: the matrix is SPD in exact arithmetic, and a slightly
    perturbed Newton direction is still checked by the line search).
    """
    for j in range(k):
        d0 = A[j, j]
        if not d0 > 0.0:
            return False
        d = d0
        for k_ in range(j):
            d -= A[j, k_] * A[j, k_]
        if d <= 1e-13 * d0:
            d = 1e-13 * d0
        d = math.sqrt(d)
        A[j, j] = d
        for i in range(j + 1, k):
            v = A[i, j]
            for k_ in range(j):
                v -= A[i, k_] * A[j, k_]
            A[i, j] = v / d
    return True


@njit(**_JIT)
def _row_elim(r, pr, f, j):
    """Row ``r`` minus ``f`` times the pivot row ``pr`` in columns ``j..5`` (6-tuples)."""
    return (
        r[0] - f * pr[0] if j <= 0 else r[0],
        r[1] - f * pr[1] if j <= 1 else r[1],
        r[2] - f * pr[2] if j <= 2 else r[2],
        r[3] - f * pr[3],
        r[4] - f * pr[4],
        r[5] - f * pr[5],
    )


@njit(**_JIT)
def _row_div(r, d, j):
    """Row ``r`` divided by ``d`` in columns ``j..5`` (a 6-tuple)."""
    return (
        r[0] / d if j <= 0 else r[0],
        r[1] / d if j <= 1 else r[1],
        r[2] / d if j <= 2 else r[2],
        r[3] / d,
        r[4] / d,
        r[5] / d,
    )


@njit(**_JIT)
def _gj_column(r0, r1, r2, j):
    """Gauss-Jordan step on column ``j`` of ``[B | I]`` held as three row tuples.

    Partial pivoting (the first row of largest magnitude among rows ``j..2``), the pivot row
    divided by the pivot, the other rows' column ``j`` eliminated (rows whose entry is 0
    skipped).  Returns the rows and False when the column has no non-zero pivot.
    """
    best = j
    bv = abs(r0[0]) if j == 0 else abs(r1[1]) if j == 1 else abs(r2[2])
    if j == 0 and abs(r1[0]) > bv:
        bv = abs(r1[0])
        best = 1
    if j <= 1 and abs(r2[j]) > bv:
        bv = abs(r2[j])
        best = 2
    if bv == 0.0:
        return r0, r1, r2, False
    if best != j:
        if j == 0 and best == 1:
            r0, r1 = r1, r0
        elif j == 0:
            r0, r2 = r2, r0
        else:
            r1, r2 = r2, r1
    if j == 0:
        r0 = _row_div(r0, r0[0], 0)
        if r1[0] != 0.0:
            r1 = _row_elim(r1, r0, r1[0], 0)
        if r2[0] != 0.0:
            r2 = _row_elim(r2, r0, r2[0], 0)
    elif j == 1:
        r1 = _row_div(r1, r1[1], 1)
        if r0[1] != 0.0:
            r0 = _row_elim(r0, r1, r0[1], 1)
        if r2[1] != 0.0:
            r2 = _row_elim(r2, r1, r2[1], 1)
    else:
        r2 = _row_div(r2, r2[2], 2)
        if r0[2] != 0.0:
            r0 = _row_elim(r0, r2, r0[2], 2)
        if r1[2] != 0.0:
            r1 = _row_elim(r1, r2, r1[2], 2)
    return r0, r1, r2, True


@njit(**_JIT)
def _inv3(B, out):
    """Inverse of a 3x3 matrix by Gauss-Jordan with partial pivoting into ``out``.

    The rows of ``[B | I]`` are held in registers (tuples): ~15 % of the interior point's time
    less than the same elimination on a (3, 6) work array, with the same operations in the
    same order (the same numbers, bit for bit).  False if ``B`` is singular.
    """
    r0 = (B[0, 0], B[0, 1], B[0, 2], 1.0, 0.0, 0.0)
    r1 = (B[1, 0], B[1, 1], B[1, 2], 0.0, 1.0, 0.0)
    r2 = (B[2, 0], B[2, 1], B[2, 2], 0.0, 0.0, 1.0)
    for j in (0, 1, 2):
        r0, r1, r2, ok = _gj_column(r0, r1, r2, j)
        if not ok:
            return False
    for c in range(3):
        out[0, c] = r0[3 + c]
        out[1, c] = r1[3 + c]
        out[2, c] = r2[3 + c]
    return True


@njit(**_JIT)
def _local_solve(Bi, Wi, m, nc, rl, out):
    """Solve one slot's local saddle system for right-hand side ``rl`` (3 nc + 2,).

    Unknowns per cell ``(dn, dp, dl_rate)``, then ``(dl_N, dl_P)``.  ``Bi[i, m]`` holds the
    inverse of cell i's 3x3 block, ``Wi[m]`` the inverse of the 2x2 pool Schur complement.
    """
    s0 = 0.0
    s1 = 0.0
    for i in range(nc):
        r0 = rl[2 * i]
        r1 = rl[2 * i + 1]
        r2 = rl[2 * nc + i]
        u0 = Bi[i, m, 0, 0] * r0 + Bi[i, m, 0, 1] * r1 + Bi[i, m, 0, 2] * r2
        u1 = Bi[i, m, 1, 0] * r0 + Bi[i, m, 1, 1] * r1 + Bi[i, m, 1, 2] * r2
        u2 = Bi[i, m, 2, 0] * r0 + Bi[i, m, 2, 1] * r1 + Bi[i, m, 2, 2] * r2
        out[2 * i] = u0
        out[2 * i + 1] = u1
        out[2 * nc + i] = u2
        s0 += u0
        s1 += u1
    s0 -= rl[3 * nc]
    s1 -= rl[3 * nc + 1]
    pi0 = Wi[m, 0, 0] * s0 + Wi[m, 0, 1] * s1
    pi1 = Wi[m, 1, 0] * s0 + Wi[m, 1, 1] * s1
    for i in range(nc):
        out[2 * i] -= Bi[i, m, 0, 0] * pi0 + Bi[i, m, 0, 1] * pi1
        out[2 * i + 1] -= Bi[i, m, 1, 0] * pi0 + Bi[i, m, 1, 1] * pi1
        out[2 * nc + i] -= Bi[i, m, 2, 0] * pi0 + Bi[i, m, 2, 1] * pi1
    out[3 * nc] = pi0
    out[3 * nc + 1] = pi1


@njit(**_JIT)
def _pd_dir(
    n,
    p,
    y,
    ah,
    Acum,
    G,
    w,
    eps,
    fac,
    tn,
    tp,
    tr,
    ty,
    tN,
    tP,
    lr,
    ln_,
    lp,
    ly,
    lN,
    lP,
    dn,
    dp,
    dy,
    dlr,
    dln,
    dlp,
    dly,
    dlN,
    dlP,
    Bi,
    Wi,
    X,
    q,
    rl,
    Sd,
    So,
    rhs,
    ky,
    by,
    hh,
    bb,
    B3,
):
    """Primal-dual Newton direction for one satellite (Boyd & Vandenberghe, sec. 11.7).

    Constraints ``f_k <= 0``: rate ``-h = dy / G - n log(1 + ah p / n) <= 0``, ``-n, -p <= 0``,
    causality ``y - A <= 0``, pools ``sum_i n - 1, sum_i p - 1 <= 0`` per slot; objective
    ``f0 = -sum_i w_i log(eps + y_iM)``.  The linearised complementarity rows ask for
    ``l_k (-f_k) = target_k``; the targets ``tn, tp, tr, ty`` (nc, M) and ``tN, tP`` (M) (of the
    PRB, power, rate, causality and pool constraints) are ``1 / t`` for the plain barrier step
    and hold the predictor-corrector's centring and second-order terms otherwise.  The bound
    multipliers are eliminated (diagonal terms); the rate and pool multiplier steps stay in a
    symmetric quasi-definite system whose right-hand sides are residuals.

    Per fast slot the local saddle-point system (PRB and power steps, rate-multiplier steps,
    pool-multiplier steps) is solved cell by cell: each cell's 3x3 block
    ``[[Q, -v], [-v^T, -h / l_r]]`` is inverted with pivoting -- ``Q`` alone is nearly singular
    along the direction that scales PRBs and power together (the rate is linear there) and
    must not be inverted on its own -- and the two pool multipliers follow from a 2x2 SPD
    Schur complement.  That leaves a block-tridiagonal SPD system in the cumulative-service
    steps ``dy`` with (nc x nc) blocks (block Cholesky).

    With ``fac`` the matrices are (re)built and factorised (``Bi, Wi, X, Sd, So, ky`` and
    ``hh``); without, the factors of the previous call at the same point are reused and only
    the right-hand sides change (a second solve costs a fraction of the first).

    ``lr, ln_, lp, ly, lN, lP`` are the multipliers; ``dn .. dlP`` receive the step; the rest
    is work space.  Returns False if a factorisation fails.
    """
    nc, M = n.shape
    for m in range(M):
        sn = 1.0
        sp = 1.0
        for i in range(nc):
            sn -= n[i, m]
            sp -= p[i, m]
        w00 = sn / lN[m]
        w01 = 0.0
        w11 = sp / lP[m]
        for i in range(nc):
            nn = n[i, m]
            pp = p[i, m]
            a = ah[i, m]
            r = a * pp / nn
            Lg = math.log1p(r)
            ir = 1.0 / (1.0 + r)
            fn = Lg - r * ir
            fp = a * ir
            wr = lr[i, m]
            if fac:
                ir2 = ir * ir / nn
                ym1 = y[i, m - 1] if m > 0 else 0.0
                h = nn * Lg - (y[i, m] - ym1) / G[i]
                hh[i, m] = h
                B3[0, 0] = wr * r * r * ir2 + ln_[i, m] / nn
                B3[1, 1] = wr * a * a * ir2 + lp[i, m] / pp
                B3[0, 1] = -wr * a * r * ir2
                B3[1, 0] = B3[0, 1]
                B3[0, 2] = -fn
                B3[2, 0] = -fn
                B3[1, 2] = -fp
                B3[2, 1] = -fp
                B3[2, 2] = -h / wr
                if not _inv3(B3, Bi[i, m]):
                    return False
                w00 += Bi[i, m, 0, 0]
                w01 += 0.5 * (Bi[i, m, 0, 1] + Bi[i, m, 1, 0])
                w11 += Bi[i, m, 1, 1]
            h = hh[i, m]
            rn = -wr * fn - ln_[i, m] + lN[m]
            rp = -wr * fp - lp[i, m] + lP[m]
            rl[m, 2 * i] = -rn + (tn[i, m] / nn - ln_[i, m])
            rl[m, 2 * i + 1] = -rp + (tp[i, m] / pp - lp[i, m])
            rl[m, 2 * nc + i] = h - tr[i, m] / wr
        rl[m, 3 * nc] = sn - tN[m] / lN[m]
        rl[m, 3 * nc + 1] = sp - tP[m] / lP[m]
        if fac:
            dw = w00 * w11 - w01 * w01
            if not dw > 0.0:
                return False
            Wi[m, 0, 0] = w11 / dw
            Wi[m, 0, 1] = -w01 / dw
            Wi[m, 1, 0] = -w01 / dw
            Wi[m, 1, 1] = w00 / dw
            # X = [L^-1]_{zeta zeta} = diag(B_i^-1[2, 2]) - g_i W^-1 g_j^T, g_i = B_i^-1[2, 0:2]
            for i in range(nc):
                gi0 = Bi[i, m, 2, 0]
                gi1 = Bi[i, m, 2, 1]
                a0 = gi0 * Wi[m, 0, 0] + gi1 * Wi[m, 1, 0]
                a1 = gi0 * Wi[m, 0, 1] + gi1 * Wi[m, 1, 1]
                for j in range(nc):
                    X[m, i, j] = -(a0 * Bi[j, m, 0, 2] + a1 * Bi[j, m, 1, 2])
                X[m, i, i] += Bi[i, m, 2, 2]
        _local_solve(Bi, Wi, m, nc, rl[m], bb)
        for j in range(nc):
            q[m, j] = bb[2 * nc + j]
    for i in range(nc):
        for m in range(M):
            sl = Acum[i, m] - y[i, m]
            kk = ly[i, m] / sl
            ry = lr[i, m] / G[i] + ly[i, m]
            if m + 1 < M:
                ry -= lr[i, m + 1] / G[i]
            else:
                u = eps + y[i, m]
                ry -= w[i] / u
                kk += w[i] / (u * u)
            by[i, m] = -ry - (ty[i, m] / sl - ly[i, m])
            if fac:
                ky[i, m] = kk
    # y system: (ky + P_m + P_{m+1}) y_m - P_m y_{m-1} - P_{m+1} y_{m+1}
    #           = by_m - Gamma q_m + Gamma q_{m+1},   P_m = -Gamma X_m Gamma
    for m in range(M):
        for i in range(nc):
            gi = 1.0 / G[i]
            if fac:
                for j in range(i + 1):
                    gj = 1.0 / G[j]
                    v = -gi * 0.5 * (X[m, i, j] + X[m, j, i]) * gj
                    if m + 1 < M:
                        v -= gi * 0.5 * (X[m + 1, i, j] + X[m + 1, j, i]) * gj
                    Sd[m, i, j] = v
                    Sd[m, j, i] = v
                Sd[m, i, i] += ky[i, m]
                if m > 0:
                    for j in range(nc):
                        So[m, i, j] = gi * X[m, i, j] / G[j]
            v = by[i, m] - gi * q[m, i]
            if m + 1 < M:
                v += gi * q[m + 1, i]
            rhs[m, i] = v
    if fac:
        # block Cholesky; So[m] <- So[m] L_{m-1}^-T
        for m in range(M):
            if m > 0:
                for r_ in range(nc):
                    for j in range(nc):
                        v = So[m, r_, j]
                        for k_ in range(j):
                            v -= So[m, r_, k_] * Sd[m - 1, j, k_]
                        So[m, r_, j] = v / Sd[m - 1, j, j]
                for i in range(nc):
                    for j in range(i + 1):
                        v = 0.0
                        for k_ in range(nc):
                            v += So[m, i, k_] * So[m, j, k_]
                        Sd[m, i, j] -= v
            if not _chol_inplace(Sd[m], nc):
                return False
    for m in range(M):
        for i in range(nc):
            v = rhs[m, i]
            if m > 0:
                for k_ in range(nc):
                    v -= So[m, i, k_] * rhs[m - 1, k_]
            for k_ in range(i):
                v -= Sd[m, i, k_] * rhs[m, k_]
            rhs[m, i] = v / Sd[m, i, i]
    for m in range(M - 1, -1, -1):
        for i in range(nc - 1, -1, -1):
            v = rhs[m, i]
            if m + 1 < M:
                for k_ in range(nc):
                    v -= So[m + 1, k_, i] * dy[k_, m + 1]
            for k_ in range(i + 1, nc):
                v -= Sd[m, k_, i] * dy[k_, m]
            dy[i, m] = v / Sd[m, i, i]
    # back-substitute the local blocks
    for m in range(M):
        rloc = rl[m]
        for i in range(nc):
            dym1 = dy[i, m - 1] if m > 0 else 0.0
            rloc[2 * nc + i] -= (dy[i, m] - dym1) / G[i]
        _local_solve(Bi, Wi, m, nc, rloc, bb)
        for i in range(nc):
            a_ = bb[2 * i]
            b_ = bb[2 * i + 1]
            dn[i, m] = a_
            dp[i, m] = b_
            dlr[i, m] = bb[2 * nc + i]
            nn = n[i, m]
            pp = p[i, m]
            dln[i, m] = -ln_[i, m] / nn * a_ + (tn[i, m] / nn - ln_[i, m])
            dlp[i, m] = -lp[i, m] / pp * b_ + (tp[i, m] / pp - lp[i, m])
        dlN[m] = bb[3 * nc]
        dlP[m] = bb[3 * nc + 1]
    for i in range(nc):
        for m in range(M):
            sl = Acum[i, m] - y[i, m]
            dly[i, m] = ly[i, m] / sl * dy[i, m] + (ty[i, m] / sl - ly[i, m])
    return True


@njit(**_JIT)
def _residual(n, p, y, ah, Acum, G, w, eps, t, lr, ln_, lp, ly, lN, lP):
    """Squared norm of the primal-dual residual; ``inf`` outside the domain.

    Also returns the surrogate duality gap ``sum_k l_k (-f_k)``.
    """
    nc, M = n.shape
    rd = 0.0
    rc = 0.0
    gap = 0.0
    it = 1.0 / t
    for m in range(M):
        sn = 1.0
        sp = 1.0
        for i in range(nc):
            sn -= n[i, m]
            sp -= p[i, m]
        if sn <= 0.0 or sp <= 0.0:
            return INF, INF
        rc += (lN[m] * sn - it) ** 2 + (lP[m] * sp - it) ** 2
        gap += lN[m] * sn + lP[m] * sp
        for i in range(nc):
            nn = n[i, m]
            pp = p[i, m]
            if nn <= 0.0 or pp <= 0.0:
                return INF, INF
            a = ah[i, m]
            r = a * pp / nn
            L = math.log1p(r)
            ir = 1.0 / (1.0 + r)
            ym1 = y[i, m - 1] if m > 0 else 0.0
            h = nn * L - (y[i, m] - ym1) / G[i]
            sl = Acum[i, m] - y[i, m]
            if h <= 0.0 or sl <= 0.0:
                return INF, INF
            rn = -lr[i, m] * (L - r * ir) - ln_[i, m] + lN[m]
            rp = -lr[i, m] * a * ir - lp[i, m] + lP[m]
            ry = lr[i, m] / G[i] + ly[i, m]
            if m + 1 < M:
                ry -= lr[i, m + 1] / G[i]
            else:
                u = eps + y[i, m]
                if u <= 0.0:
                    return INF, INF
                ry -= w[i] / u
            rd += rn * rn + rp * rp + ry * ry
            rc += (lr[i, m] * h - it) ** 2 + (ln_[i, m] * nn - it) ** 2
            rc += (lp[i, m] * pp - it) ** 2 + (ly[i, m] * sl - it) ** 2
            gap += lr[i, m] * h + ln_[i, m] * nn + lp[i, m] * pp + ly[i, m] * sl
    return rd + rc, gap


@njit(**_JIT)
def _residual_parts(n, p, y, ah, Acum, G, w, eps, lr, ln_, lp, ly, lN, lP, cr, cn, cp, cy, cN, cP):
    """:func:`_residual` in two parts, so that the rates are evaluated once per point.

    Returns the dual residual's squared norm (``inf`` outside the domain) and writes the
    complementarity products ``l_k (-f_k)`` to ``cr, cn, cp, cy`` (nc, M) and ``cN, cP`` (M),
    from which :func:`_rc` gives the centrality part at any ``t`` and :func:`_gap_of` the
    surrogate gap.

    Same operations in the same order as :func:`_residual` and :func:`_surrogate_gap`, so the
    numbers are the same to the last bit.
    """
    nc, M = n.shape
    rd = 0.0
    for m in range(M):
        sn = 1.0
        sp = 1.0
        for i in range(nc):
            sn -= n[i, m]
            sp -= p[i, m]
        if sn <= 0.0 or sp <= 0.0:
            return INF
        cN[m] = lN[m] * sn
        cP[m] = lP[m] * sp
        for i in range(nc):
            nn = n[i, m]
            pp = p[i, m]
            if nn <= 0.0 or pp <= 0.0:
                return INF
            a = ah[i, m]
            r = a * pp / nn
            L = math.log1p(r)
            ir = 1.0 / (1.0 + r)
            ym1 = y[i, m - 1] if m > 0 else 0.0
            h = nn * L - (y[i, m] - ym1) / G[i]
            sl = Acum[i, m] - y[i, m]
            if h <= 0.0 or sl <= 0.0:
                return INF
            rn = -lr[i, m] * (L - r * ir) - ln_[i, m] + lN[m]
            rp = -lr[i, m] * a * ir - lp[i, m] + lP[m]
            ry = lr[i, m] / G[i] + ly[i, m]
            if m + 1 < M:
                ry -= lr[i, m + 1] / G[i]
            else:
                u = eps + y[i, m]
                if u <= 0.0:
                    return INF
                ry -= w[i] / u
            rd += rn * rn + rp * rp + ry * ry
            cr[i, m] = lr[i, m] * h
            cn[i, m] = ln_[i, m] * nn
            cp[i, m] = lp[i, m] * pp
            cy[i, m] = ly[i, m] * sl
    return rd


@njit(**_JIT)
def _rc(t, cr, cn, cp, cy, cN, cP):
    """Centrality part of :func:`_residual` at ``t`` from the products of :func:`_residual_parts`."""
    nc, M = cr.shape
    it = 1.0 / t
    rc = 0.0
    for m in range(M):
        rc += (cN[m] - it) ** 2 + (cP[m] - it) ** 2
        for i in range(nc):
            rc += (cr[i, m] - it) ** 2 + (cn[i, m] - it) ** 2
            rc += (cp[i, m] - it) ** 2 + (cy[i, m] - it) ** 2
    return rc


@njit(**_JIT)
def _gap_of(cr, cn, cp, cy, cN, cP):
    """:func:`_surrogate_gap` from the products of :func:`_residual_parts` (same order)."""
    nc, M = cr.shape
    gap = 0.0
    for m in range(M):
        for i in range(nc):
            gap += cr[i, m] + cn[i, m] + cp[i, m] + cy[i, m]
        gap += cN[m] + cP[m]
    return gap


@njit(**_JIT)
def _max_dual_step(lv, dl, smax):
    for idx in range(lv.size):
        d = dl.flat[idx]
        if d < 0.0:
            smax = min(smax, -lv.flat[idx] / d)
    return smax


@njit(**_JIT)
def _max_primal_step(n, p, y, Acum, eps, dn, dp, dy, smax):
    """Largest step keeping the linear constraints strict: ``n, p > 0``, pools, causality.

    (The rate constraints are concave; the line search checks them.)
    """
    nc, M = n.shape
    for m in range(M):
        sn = 1.0
        sp = 1.0
        dsn = 0.0
        dsp = 0.0
        for i in range(nc):
            sn -= n[i, m]
            sp -= p[i, m]
            dsn -= dn[i, m]
            dsp -= dp[i, m]
            if dn[i, m] < 0.0:
                smax = min(smax, -n[i, m] / dn[i, m])
            if dp[i, m] < 0.0:
                smax = min(smax, -p[i, m] / dp[i, m])
            if dy[i, m] > 0.0:
                smax = min(smax, (Acum[i, m] - y[i, m]) / dy[i, m])
        if dsn < 0.0:
            smax = min(smax, -sn / dsn)
        if dsp < 0.0:
            smax = min(smax, -sp / dsp)
    for i in range(nc):
        if dy[i, M - 1] < 0.0:
            smax = min(smax, -(eps + y[i, M - 1]) / dy[i, M - 1])
    return smax


@njit(**_JIT)
def _surrogate_gap(n, p, y, ah, Acum, G, lr, ln_, lp, ly, lN, lP):
    nc, M = n.shape
    gap = 0.0
    for m in range(M):
        sn = 1.0
        sp = 1.0
        for i in range(nc):
            nn = n[i, m]
            pp = p[i, m]
            sn -= nn
            sp -= pp
            ym1 = y[i, m - 1] if m > 0 else 0.0
            h = nn * math.log1p(ah[i, m] * pp / nn) - (y[i, m] - ym1) / G[i]
            gap += lr[i, m] * h + ln_[i, m] * nn + lp[i, m] * pp + ly[i, m] * (Acum[i, m] - y[i, m])
        gap += lN[m] * sn + lP[m] * sp
    return gap


@njit(**_JIT)
def ipm(ah, Acum, G, w, eps, n, p, y, t0, gap_tol, mu_factor, max_iter, lam, mu, ainc, ub):
    """Primal-dual interior-point method for one satellite from a strictly feasible start.

    Variables (in place): PRB shares ``n``, power shares ``p`` and cumulative served demand
    fractions ``y`` (nc, M).  Constraints: rate ``y_m - y_{m-1} <= G n log(1 + ah p / n)``,
    ``n, p >= 0``, causality ``y_m <= A_m``, pools ``sum_i n <= 1``, ``sum_i p <= 1`` per slot.
    Objective ``max sum_i w_i log(eps + y_iM)``.  Boyd & Vandenberghe's algorithm 11.2:
    ``t = mu_factor m / gap``, residual-norm backtracking.  Multipliers start at
    ``1 / (t0 (-f_k))``.  Stops when the surrogate gap is ``<= gap_tol`` (the caller then
    certifies the result with :func:`dual_value` at the pool multipliers), or when no step is
    accepted (``converged = False``; the iterate is still strictly feasible).  Fills the pool
    prices ``lam, mu`` (M) and returns ``(iterations, converged)``.

    It also stops (converged) as soon as the iterate, with its pools filled and served greedily
    in time, comes within ``gap_tol`` of a known upper bound ``ub`` on the utility (the
    uniform-price dual bound, or everybody served); ``ainc`` (nc, M) are the arrivals as demand
    fractions.  Then ``ub`` certifies the result, whatever the multipliers.
    """
    nc, M = n.shape
    mcons = 4.0 * nc * M + 2.0 * M
    b = 3 * nc + 2
    Bi = np.empty((nc, M, 3, 3))
    Wi = np.empty((M, 2, 2))
    X = np.empty((M, nc, nc))
    q = np.empty((M, nc))
    rl = np.empty((M, b))
    Sd = np.empty((M, nc, nc))
    So = np.zeros((M, nc, nc))
    rhs = np.empty((M, nc))
    ky = np.empty((nc, M))
    by = np.empty((nc, M))
    hh = np.empty((nc, M))
    bb = np.empty(b)
    B3 = np.empty((3, 3))
    lr = np.empty((nc, M))
    ln_ = np.empty((nc, M))
    lp = np.empty((nc, M))
    ly = np.empty((nc, M))
    lN = np.empty(M)
    lP = np.empty(M)
    it0 = 1.0 / t0
    for m in range(M):
        sn = 1.0
        sp = 1.0
        for i in range(nc):
            sn -= n[i, m]
            sp -= p[i, m]
            ym1 = y[i, m - 1] if m > 0 else 0.0
            h = n[i, m] * math.log1p(ah[i, m] * p[i, m] / n[i, m]) - (y[i, m] - ym1) / G[i]
            lr[i, m] = it0 / h
            ln_[i, m] = it0 / n[i, m]
            lp[i, m] = it0 / p[i, m]
            ly[i, m] = it0 / (Acum[i, m] - y[i, m])
        lN[m] = it0 / sn
        lP[m] = it0 / sp
    dn = np.empty((nc, M))
    dp = np.empty((nc, M))
    dy = np.empty((nc, M))
    dlr = np.empty((nc, M))
    dln = np.empty((nc, M))
    dlp = np.empty((nc, M))
    dly = np.empty((nc, M))
    dlN = np.empty(M)
    dlP = np.empty(M)
    n2 = np.empty((nc, M))
    p2 = np.empty((nc, M))
    y2 = np.empty((nc, M))
    lr2 = np.empty((nc, M))
    ln2 = np.empty((nc, M))
    lp2 = np.empty((nc, M))
    ly2 = np.empty((nc, M))
    lN2 = np.empty(M)
    lP2 = np.empty(M)
    tn = np.empty((nc, M))
    tp = np.empty((nc, M))
    tr = np.empty((nc, M))
    ty = np.empty((nc, M))
    tN = np.empty(M)
    tP = np.empty(M)
    # complementarity products of the current iterate and of a trial point (_residual_parts):
    # the residual at a new t and the surrogate gap follow without evaluating the rates again
    cr = np.empty((nc, M))
    cn = np.empty((nc, M))
    cp = np.empty((nc, M))
    cy = np.empty((nc, M))
    cN = np.empty(M)
    cP = np.empty(M)
    cr2 = np.empty((nc, M))
    cn2 = np.empty((nc, M))
    cp2 = np.empty((nc, M))
    cy2 = np.empty((nc, M))
    cN2 = np.empty(M)
    cP2 = np.empty(M)
    converged = False
    iters = 0
    gap = _surrogate_gap(n, p, y, ah, Acum, G, lr, ln_, lp, ly, lN, lP)
    rd0 = _residual_parts(
        n, p, y, ah, Acum, G, w, eps, lr, ln_, lp, ly, lN, lP, cr, cn, cp, cy, cN, cP
    )
    while iters < max_iter:
        iters += 1
        t = mu_factor * mcons / gap
        tgt = 1.0 / t
        tn[:, :] = tgt
        tp[:, :] = tgt
        tr[:, :] = tgt
        ty[:, :] = tgt
        tN[:] = tgt
        tP[:] = tgt
        ok = _pd_dir(
            n, p, y, ah, Acum, G, w, eps, True, tn, tp, tr, ty, tN, tP,
            lr, ln_, lp, ly, lN, lP, dn, dp, dy, dlr, dln, dlp, dly, dlN, dlP,
            Bi, Wi, X, q, rl, Sd, So, rhs, ky, by, hh, bb, B3,
        )  # fmt: skip
        if not ok:
            break
        smax = 1.0
        smax = _max_dual_step(lr, dlr, smax)
        smax = _max_dual_step(ln_, dln, smax)
        smax = _max_dual_step(lp, dlp, smax)
        smax = _max_dual_step(ly, dly, smax)
        smax = _max_dual_step(lN, dlN, smax)
        smax = _max_dual_step(lP, dlP, smax)
        smax = _max_primal_step(n, p, y, Acum, eps, dn, dp, dy, smax)
        s = 0.99 * smax
        r0 = math.sqrt(rd0 + _rc(t, cr, cn, cp, cy, cN, cP) if rd0 < INF else INF)
        accepted = False
        for _ in range(60):
            for i in range(nc):
                for m in range(M):
                    n2[i, m] = n[i, m] + s * dn[i, m]
                    p2[i, m] = p[i, m] + s * dp[i, m]
                    y2[i, m] = y[i, m] + s * dy[i, m]
                    lr2[i, m] = lr[i, m] + s * dlr[i, m]
                    ln2[i, m] = ln_[i, m] + s * dln[i, m]
                    lp2[i, m] = lp[i, m] + s * dlp[i, m]
                    ly2[i, m] = ly[i, m] + s * dly[i, m]
            for m in range(M):
                lN2[m] = lN[m] + s * dlN[m]
                lP2[m] = lP[m] + s * dlP[m]
            rd1 = _residual_parts(
                n2, p2, y2, ah, Acum, G, w, eps, lr2, ln2, lp2, ly2, lN2, lP2,
                cr2, cn2, cp2, cy2, cN2, cP2,
            )  # fmt: skip
            r1 = rd1 + _rc(t, cr2, cn2, cp2, cy2, cN2, cP2) if rd1 < INF else INF
            if r1 < INF and math.sqrt(r1) <= (1.0 - 0.01 * s) * r0:
                accepted = True
                break
            s *= 0.7
        if not accepted:
            break
        n[:, :] = n2
        p[:, :] = p2
        y[:, :] = y2
        lr[:, :] = lr2
        ln_[:, :] = ln2
        lp[:, :] = lp2
        ly[:, :] = ly2
        lN[:] = lN2
        lP[:] = lP2
        rd0 = rd1
        cr[:, :] = cr2
        cn[:, :] = cn2
        cp[:, :] = cp2
        cy[:, :] = cy2
        cN[:] = cN2
        cP[:] = cP2
        gap = _gap_of(cr, cn, cp, cy, cN, cP)
        if gap <= gap_tol or ub - _filled_utility(n, p, ah, ainc, G, w, eps) <= gap_tol:
            converged = True
            break
    lam[:] = lN
    mu[:] = lP
    return iters, converged


@njit(**_JIT)
def interior_start(ah, Acum, ainc, G, eps, nmat, pmat, theta, n, p, y):
    """Strictly feasible barrier start near a given allocation ``(nmat, pmat)``.

    Mixes ``theta`` of the allocation with an equal split, then serves a causal schedule at
    90 % of the greedy service with a small negative offset (strict causality, ``y > -eps``).
    """
    nc, M = ah.shape
    eq = 1.0 / (nc + 1.0)
    for i in range(nc):
        for m in range(M):
            n[i, m] = theta * nmat[i, m] + (1.0 - theta) * eq
            p[i, m] = theta * pmat[i, m] + (1.0 - theta) * eq
    delta = 0.5 * min(eps, 1e-3)
    for i in range(nc):
        back = 0.0
        cum = 0.0
        for m in range(M):
            back += ainc[i, m]
            r = G[i] * n[i, m] * math.log1p(ah[i, m] * p[i, m] / n[i, m])
            z = min(back, 0.5 * r)
            back -= z
            cum += 0.9 * z
            y[i, m] = cum - delta * (m + 1.0) / M
    return delta


# ----------------------------------------------------------------------------------------------
# one satellite, and a whole batch
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def _utility_of(n, p, ah, ainc, G, w, eps):
    """Utility of an allocation, serving greedily in time (the best causal schedule)."""
    nc, M = n.shape
    U = 0.0
    for i in range(nc):
        back = 0.0
        Y = 0.0
        for m in range(M):
            back += ainc[i, m]
            r = 0.0
            if n[i, m] > 0.0 and p[i, m] > 0.0:
                r = G[i] * n[i, m] * math.log1p(ah[i, m] * p[i, m] / n[i, m])
            z = min(back, r)
            back -= z
            Y += z
        U += w[i] * math.log(eps + min(1.0, Y))
    return U


@njit(**_JIT)
def _filled_utility(n, p, ah, ainc, G, w, eps):
    """:func:`_utility_of` after scaling every slot's PRBs and power up to the full pools."""
    nc, M = n.shape
    fn = np.empty(M)
    fp = np.empty(M)
    for m in range(M):
        sn = 0.0
        sp = 0.0
        for i in range(nc):
            sn += n[i, m]
            sp += p[i, m]
        fn[m] = 1.0 / sn if sn > 0 else 1.0
        fp[m] = 1.0 / sp if sp > 0 else 1.0
    return _utility_of(n * fn, p * fp, ah, ainc, G, w, eps)


@njit(**_JIT)
def _cumulative(ainc, Acum):
    nc, M = ainc.shape
    for i in range(nc):
        c = 0.0
        for m in range(M):
            c += ainc[i, m]
            Acum[i, m] = c
        Acum[i, M - 1] = 1.0


@njit(**_JIT)
def _is_fading(ah):
    nc, M = ah.shape
    for i in range(nc):
        for m in range(1, M):
            if ah[i, m] != ah[i, 0]:
                return True
    return False


# ----------------------------------------------------------------------------------------------
# free prefix + uniform suffix (binding causality without the interior point)
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def _pool_eval_off(rho, ah, Gp, w, eps, off, cap, om, s, nu, pi, beta, xi, vals, order):
    """:func:`_pool_eval` for cells that already hold ``off`` and may add at most ``cap``.

    Cell ``i`` maximises ``w_i log(eps + off_i + xi_i)`` with ``0 <= xi_i <= cap_i``, so at
    power price ``mu`` it takes ``xi_i = clip(beta_i / mu - eps - off_i, 0, cap_i)``; cells with
    ``cap_i = 0`` take no part.  Returns ``(F, mu)`` as :func:`_pool_eval` (``om``: warm start
    and result, as there).
    """
    nc = ah.shape[0]
    ptot = 0.0
    for i in range(nc):
        o = _omega_warm(rho * ah[i], om[i])  # previous rho's root
        if o <= 0.0:
            o = 1e-300
        om[i] = o
        s[i] = math.expm1(o) / ah[i]
        nu[i] = 1.0 / (Gp[i] * o)
        pi[i] = s[i] * nu[i]
        beta[i] = w[i] * Gp[i] * ah[i] * math.exp(-o)
        ptot += pi[i] * cap[i]
    if ptot <= 1.0:
        mu = 0.0
        for i in range(nc):
            xi[i] = cap[i]
    else:
        # power(mu) = sum_i pi_i clip(beta_i / mu - eps - off_i, 0, cap_i), decreasing in mu
        for i in range(nc):
            if cap[i] > 0.0:
                vals[2 * i] = -beta[i] / (eps + off[i])  # above: cell i gets nothing
                vals[2 * i + 1] = -beta[i] / (eps + off[i] + cap[i])  # below: capped
            else:
                vals[2 * i] = INF
                vals[2 * i + 1] = INF
        _argsort_small(vals, order, 2 * nc)
        A = 0.0
        Bc = 0.0
        cur = INF
        mu = -1.0
        for k in range(2 * nc):
            e = order[k]
            if vals[e] == INF:
                break
            lo = -vals[e]
            if Bc > 0.0 and A < 1.0:
                cand = Bc / (1.0 - A)
                if cand >= lo and cand <= cur:
                    mu = cand
                    break
            i = e // 2
            if e % 2 == 0:
                A -= pi[i] * (eps + off[i])
                Bc += pi[i] * beta[i]
            else:
                A += pi[i] * (eps + off[i] + cap[i])
                Bc -= pi[i] * beta[i]
            cur = lo
        if mu < 0.0 and Bc > 0.0 and A < 1.0:
            mu = Bc / (1.0 - A)  # below the last breakpoint
        if mu < 0.0:
            # numerical corner: bisection on log mu
            mlo = 1e-300
            mhi = 0.0
            for i in range(nc):
                if cap[i] > 0.0:
                    mhi = max(mhi, beta[i] / (eps + off[i]))
            for _ in range(200):
                mid = math.sqrt(mlo * mhi)
                pw = 0.0
                for i in range(nc):
                    pw += pi[i] * min(cap[i], max(0.0, beta[i] / mid - eps - off[i]))
                if pw > 1.0:
                    mlo = mid
                else:
                    mhi = mid
                if mhi - mlo <= 1e-15 * mhi:
                    break
            mu = mhi
        for i in range(nc):
            xi[i] = min(cap[i], max(0.0, beta[i] / mu - eps - off[i]))
    F = -1.0
    for i in range(nc):
        F += nu[i] * xi[i]
    return F, mu


@njit(**_JIT)
def single_pool_off(ah, Gp, w, eps, off, cap, xi, nsh, psh, rho0=0.0):
    """:func:`single_pool` for cells holding ``off`` already, each adding at most ``cap``.

    Returns ``(lam, mu, iterations)`` (prices of the pooled slots) and fills ``xi`` (added
    fractions), ``nsh`` and ``psh`` (PRB and power shares per slot).  ``F(rho)``, the PRB
    excess, is decreasing in ``rho``; a bracketed Illinois iteration on ``log rho`` finds its
    root.  ``rho0 > 0`` starts the search there (e.g. a nearby pool's price ratio).
    """
    nc = ah.shape[0]
    om = np.zeros(nc)  # 0: the first omega is solved cold
    s = np.empty(nc)
    nu = np.empty(nc)
    pi = np.empty(nc)
    beta = np.empty(nc)
    vals = np.empty(2 * nc)
    order = np.empty(2 * nc, dtype=np.int64)
    step = 1.5
    if rho0 > 0.0:
        lr = math.log(rho0)
        step = 0.25
    else:
        lr = 0.0
        for i in range(nc):
            o = math.log1p(ah[i])
            lr += math.log((math.exp(o) * (o - 1.0) + 1.0 + 1e-300) / ah[i])
        lr /= nc
    a = lr
    fa, mu = _pool_eval_off(
        math.exp(a), ah, Gp, w, eps, off, cap, om, s, nu, pi, beta, xi, vals, order
    )
    # (xl, F, mu): the point the work arrays were last evaluated at
    xl = a
    F = fa
    it = 1
    b = a
    fb = fa
    while it < 200 and fa != 0.0:
        b = a + step if fa > 0 else a - step
        fb, mu = _pool_eval_off(
            math.exp(b), ah, Gp, w, eps, off, cap, om, s, nu, pi, beta, xi, vals, order
        )
        xl = b
        F = fb
        it += 1
        if (fa > 0) != (fb > 0) or fb == 0.0:
            break
        a = b
        fa = fb
        step *= 2.0
    if fa == 0.0:
        b = a
        fb = fa
    lo, flo, hi, fhi = (a, fa, b, fb) if a < b else (b, fb, a, fa)
    x = hi
    fx = fhi
    if flo == 0.0:
        x = lo
        fx = 0.0
    side = 0
    while it < 200 and fx != 0.0:
        if hi - lo <= 1e-15 * max(1.0, abs(lo)):
            break
        x = (lo * fhi - hi * flo) / (fhi - flo)
        if not (x > lo and x < hi):
            x = 0.5 * (lo + hi)
        fx, mu = _pool_eval_off(
            math.exp(x), ah, Gp, w, eps, off, cap, om, s, nu, pi, beta, xi, vals, order
        )
        xl = x
        F = fx
        it += 1
        if abs(fx) <= 1e-15:
            break
        if (fx > 0) == (flo > 0):
            lo = x
            flo = fx
            if side == -1:
                fhi *= 0.5
            side = -1
        else:
            hi = x
            fhi = fx
            if side == 1:
                flo *= 0.5
            side = 1
    rho = math.exp(x)
    if xl != x:
        F, mu = _pool_eval_off(rho, ah, Gp, w, eps, off, cap, om, s, nu, pi, beta, xi, vals, order)
    scale = 1.0 / (1.0 + F) if F > 0.0 else 1.0
    for i in range(nc):
        nsh[i] = nu[i] * xi[i] * scale
        psh[i] = s[i] * nu[i] * xi[i]
    return rho * mu, mu, it


@njit(**_JIT)
def _suffix_schedule(ahs, Acs, Gs, xs, nsh, psh, mu1, nsub, psub):
    """Causal schedule over the suffix slots of the suffix single-pool solution, if found.

    ``Acs`` (na, L) are the cumulative suffix arrivals (last column: what is left), ``xs`` the
    added fractions.  Tries :func:`schedule_uniform`, then :func:`schedule_greedy` (priced
    pools) or :func:`schedule_all_satisfied` (everybody served, on the arrivals left).
    """
    if schedule_uniform(xs, nsh, psh, Acs, nsub, psub):
        return True
    if mu1 > 0.0:
        return schedule_greedy(xs, nsh, psh, Acs, nsub, psub)
    na, L = Acs.shape
    An = np.empty((na, L))
    Gn = np.empty(na)
    for i in range(na):
        c = Acs[i, L - 1]
        for m in range(L):
            An[i, m] = Acs[i, m] / c
        An[i, L - 1] = 1.0
        Gn[i] = Gs[i] / c
    return schedule_all_satisfied(ahs, An, Gn, nsub, psub)


@njit(**_JIT)
def prefix_suffix(
    ah, ainc, Acum, G, w, eps, rho_u, nmat, pmat, lam, mu, backlog, free_tries=1
):  # fmt: skip
    """Two price blocks (prefix, suffix): exact schedules for binding causality.

    A forward pass serves every cell what has arrived (in a slot that cannot serve the whole
    backlog, the largest common fraction of it that fits, :func:`max_fraction_slot`).

    Free prefix: a split ``t`` is a candidate when no backlog is left after slot ``t - 1``.
    The first ``t`` slots are not priced (every arrival is served there); the last
    ``L = M - t`` slots form one pool at uniform prices, shared by the cells according to what
    they already hold (:func:`single_pool_off`) and scheduled causally by the single-pool
    schedulers.  ``t = M`` (no backlog at the end) serves everybody in full.  The
    ``free_tries`` latest candidates are tried.

    ``rho_u`` (the uniform price ratio) starts the suffix's price search.  A priced prefix
    (two price blocks, one cell carrying bits across their boundary) is left to
    :func:`staircase_search`, which tries that structure among others (session 23: it settled
    53 of the 56 recorded satellites that the former priced-prefix tries of this function
    settled, and those tries cost ~62 us on every satellite they did not settle).

    Each candidate's per-slot prices give the dual bound (:func:`dual_value`); it is accepted
    when the allocation attains it to round-off, i.e. the allocation is optimal.  This is the
    structure of the optimum when the early slots have fewer arrivals than the pools can serve.

    Fills ``nmat, pmat`` (nc, M), the per-slot prices ``lam, mu`` (M) and ``backlog`` (nc, M),
    what the forward pass leaves of each cell's arrivals after each slot (for
    :func:`staircase_search`).  Returns ``(solved, iterations, utility, bound)``.
    """
    nc, M = ah.shape
    wsum = 0.0
    for i in range(nc):
        wsum += w[i]
    q = np.empty(nc)
    nn = np.empty(nc)
    pp = np.empty(nc)
    ahm = np.empty(nc)
    back = np.zeros(nc)
    cleared = np.zeros(M + 1, dtype=np.bool_)
    zstate = np.full(1, np.nan)  # log PRB/power price ratio of the previous slot: a warm start
    iters = 0
    for m in range(M):
        left = _forward_slot(m, ah, ainc, G, back, q, ahm, nn, pp, zstate, nmat, pmat)
        iters += 1
        for i in range(nc):
            backlog[i, m] = back[i]
        cleared[m + 1] = left <= 0.0
    if cleared[M]:
        # everybody served in full: optimal (the bound at zero prices)
        lam[:] = 0.0
        mu[:] = 0.0
        U = _utility_of(nmat, pmat, ah, ainc, G, w, eps)
        ub = dual_value(ah, ainc, G, w, eps, lam, mu)
        return ub - U <= 1e-11 * (abs(U) + wsum), iters, U, ub
    tries = 0
    for t in range(M - 1, 0, -1):
        if not cleared[t]:
            continue  # the prefix must serve everything that arrived in it
        tries += 1
        if tries > free_tries:
            break
        # suffix: cells with arrivals left
        L = M - t
        na = 0
        for i in range(nc):
            if 1.0 - Acum[i, t - 1] > 1e-15:
                na += 1
        if na == 0:
            continue
        sel = np.empty(na, dtype=np.int64)
        k = 0
        for i in range(nc):
            if 1.0 - Acum[i, t - 1] > 1e-15:
                sel[k] = i
                k += 1
        ahs = np.empty(na)
        ahl = np.empty((na, L))
        Gp = np.empty(na)
        Gs = np.empty(na)
        ws = np.empty(na)
        off = np.empty(na)
        cap = np.empty(na)
        Acs = np.empty((na, L))
        for k in range(na):
            i = sel[k]
            ahs[k] = ah[i, t]
            Gp[k] = G[i] * L
            Gs[k] = G[i]
            ws[k] = w[i]
            off[k] = Acum[i, t - 1]
            cap[k] = 1.0 - Acum[i, t - 1]
            for j in range(L):
                ahl[k, j] = ah[i, t + j]
                Acs[k, j] = Acum[i, t + j] - off[k]
            Acs[k, L - 1] = cap[k]
        xs = np.empty(na)
        nsh = np.empty(na)
        psh = np.empty(na)
        lam1, mu1, it = single_pool_off(ahs, Gp, ws, eps, off, cap, xs, nsh, psh, rho_u)
        iters += it
        nsub = np.empty((na, L))
        psub = np.empty((na, L))
        if not _suffix_schedule(ahl, Acs, Gs, xs, nsh, psh, mu1, nsub, psub):
            continue
        for i in range(nc):
            for j in range(t, M):
                nmat[i, j] = 0.0
                pmat[i, j] = 0.0
        for k in range(na):
            i = sel[k]
            for j in range(L):
                nmat[i, t + j] = nsub[k, j]
                pmat[i, t + j] = psub[k, j]
        for j in range(M):
            lam[j] = 0.0 if j < t else lam1 / L
            mu[j] = 0.0 if j < t else mu1 / L
        U = _utility_of(nmat, pmat, ah, ainc, G, w, eps)
        ub = dual_value(ah, ainc, G, w, eps, lam, mu)
        if ub - U <= 1e-11 * (abs(U) + wsum):
            return True, iters, U, ub
    return False, iters, -INF, INF




# ----------------------------------------------------------------------------------------------
# staircase of price blocks: Newton on the KKT system of a given block structure
# ----------------------------------------------------------------------------------------------

STAIR_TRIES = 3  # one-boundary candidates tried per satellite (see staircase_search)


@njit(**_JIT)
def _lu_solve(A, b, x, n):
    """Solve ``A[:n, :n] x = b`` (dense, partial pivoting; ``A`` and ``b`` are overwritten).

    Returns False when a pivot vanishes.
    """
    for c in range(n):
        piv = c
        big = abs(A[c, c])
        for r in range(c + 1, n):
            v = abs(A[r, c])
            if v > big:
                big = v
                piv = r
        if not big > 1e-300:
            return False
        if piv != c:
            for j in range(c, n):
                t = A[c, j]
                A[c, j] = A[piv, j]
                A[piv, j] = t
            t = b[c]
            b[c] = b[piv]
            b[piv] = t
        inv = 1.0 / A[c, c]
        for r in range(c + 1, n):
            f = A[r, c] * inv
            if f != 0.0:
                for j in range(c + 1, n):
                    A[r, j] -= f * A[c, j]
                b[r] -= f * b[c]
    for c in range(n - 1, -1, -1):
        s = b[c]
        for j in range(c + 1, n):
            s -= A[c, j] * x[j]
        x[c] = s / A[c, c]
    return True


@njit(**_JIT)
def _omega_warm(q, w0):
    """:func:`omega_of` by Halley's method from a nearby root ``w0`` (cold when ``w0`` small)."""
    if not w0 > 0.1:
        return omega_of(q)
    w = w0
    for _ in range(20):
        ew = math.exp(w)
        f = (ew - 1.0) * (w - 1.0) + w - q
        f1 = w * ew
        f2 = (w + 1.0) * ew
        den = 2.0 * f1 * f1 - f * f2
        step = 2.0 * f * f1 / den if den > 0.0 else f / f1
        wn = w - step
        if wn <= 0.05:
            return omega_of(q)
        if abs(wn - w) <= 1e-15 * wn:
            return wn
        w = wn
    return omega_of(q)  # not settled from that start: solve it cold


@njit(**_JIT)
def _stair_eval(
    z, nb, blen, ahv, lGa, G, w, eps, act, eix, segof, nseg, segcell, segfree, segtgt,
    F, om, dom, warm,
):  # fmt: skip
    """Residual ``F`` of the block KKT system (:func:`block_newton`) at the unknowns ``z``.

    ``z = [r_k, L_k (k < nb), V_j (j < nseg), N_e (served pairs e = eix[a, k] >= 0)]``: log
    price ratio and log power price of block ``k``, log value of cell segment ``j``, PRB
    shares of active cell ``a`` summed over block ``k``.  Fills ``om`` (spectral
    efficiencies) and ``dom`` (their derivatives in ``r_k``), (na, nb); with ``warm`` the
    efficiencies start from the values in ``om``.  Returns the number of equations.
    """
    na = act.shape[0]
    oV = 2 * nb
    oN = 2 * nb + nseg
    for k in range(nb):
        er = math.exp(z[k])
        for a in range(na):
            q = er * ahv[act[a]]
            o = _omega_warm(q, om[a, k]) if warm else omega_of(q)
            om[a, k] = o
            dom[a, k] = q / (o * math.exp(o))
    row = 0
    for a in range(na):  # bit cost = the segment's value where the cell is served
        i = act[a]
        for k in range(nb):
            if eix[a, k] < 0:
                continue
            F[row] = z[nb + k] + om[a, k] - lGa[i] - z[oV + segof[a, k]]
            row += 1
    for k in range(nb):  # both pools full in every block
        fN = -blen[k]
        fP = -blen[k]
        for a in range(na):
            e = eix[a, k]
            if e < 0:
                continue
            fN += z[oN + e]
            fP += math.expm1(om[a, k]) / ahv[act[a]] * z[oN + e]
        F[row] = fN
        F[row + 1] = fP
        row += 2
    for j in range(nseg):  # a bound segment serves its arrivals; a free one w / v - eps
        a = segcell[j]
        i = act[a]
        f = 0.0
        for k in range(nb):
            e = eix[a, k]
            if segof[a, k] == j and e >= 0:
                f += G[i] * om[a, k] * z[oN + e]
        if segfree[j]:
            f -= w[i] * math.exp(-z[oV + j]) - eps - segtgt[j]
        else:
            f -= segtgt[j]
        F[row] = f
        row += 1
    return row


@njit(**_JIT)
def _stair_jac(z, nb, ahv, G, w, act, eix, segof, nseg, segcell, segfree, J, nz, om, dom):
    """Jacobian ``J[:nz, :nz]`` of :func:`_stair_eval` at ``z`` (from its ``om, dom``)."""
    na = act.shape[0]
    oV = 2 * nb
    oN = 2 * nb + nseg
    J[:nz, :nz] = 0.0
    row = 0
    for a in range(na):
        for k in range(nb):
            if eix[a, k] < 0:
                continue
            J[row, k] = dom[a, k]
            J[row, nb + k] = 1.0
            J[row, oV + segof[a, k]] = -1.0
            row += 1
    for k in range(nb):
        er = math.exp(z[k])
        dP = 0.0
        for a in range(na):
            e = eix[a, k]
            if e < 0:
                continue
            J[row, oN + e] = 1.0
            J[row + 1, oN + e] = math.expm1(om[a, k]) / ahv[act[a]]
            dP += z[oN + e] * er / om[a, k]
        J[row + 1, k] = dP
        row += 2
    for j in range(nseg):
        a = segcell[j]
        i = act[a]
        for k in range(nb):
            e = eix[a, k]
            if segof[a, k] == j and e >= 0:
                J[row, oN + e] = G[i] * om[a, k]
                J[row, k] += G[i] * z[oN + e] * dom[a, k]
        if segfree[j]:
            J[row, oV + j] = w[i] * math.exp(-z[oV + j])
        row += 1


@njit(**_JIT)
def _stair_boundaries(bind, sup, act, T, M, bound):
    """Price-block boundaries ``bound[m]`` (after slot ``m``, ``T <= m < M - 1``) from ``bind``.

    A boundary has exactly one active cell, served on both sides, that is not caught up with
    its arrivals there (the swing cell): two such cells would need equal bit costs on both
    sides, hence equal prices, so such a boundary is dropped with its bindings; with none, the
    block before it would have no price level, so the first binding cell served on both sides
    is made the swing cell.  Likewise, when every active cell is satisfied at the end, the
    first one is left free (it fixes the price level).
    """
    na = act.shape[0]
    for m in range(T, M):
        free = 0
        for a in range(na):
            i = act[a]
            if not bind[i, m] and (m == M - 1 or (sup[i, m] and sup[i, m + 1])):
                free += 1
        if free == 0:
            for a in range(na):
                i = act[a]
                if m == M - 1 or (sup[i, m] and sup[i, m + 1]):
                    bind[i, m] = False
                    free = 1
                    break
        if m == M - 1:
            break
        bound[m] = free <= 1
        if not bound[m]:
            for a in range(na):
                bind[act[a], m] = False


@njit(**_JIT)
def block_newton(ah, ainc, Acum, G, w, eps, T, bind, sup, lN, lP, nsh0, nmat, pmat, lam, mu):
    """Exact solution for a given staircase of price blocks, if it is the optimal one.

    The structure: the first ``T`` slots are a free prefix (prices 0, every cell served what
    has arrived, by the forward pass of :func:`prefix_suffix`); the other slots form blocks of
    equal prices separated by :func:`_stair_boundaries` from ``bind`` (nc, M): cell ``i``
    caught up with its arrivals after slot ``m`` (``m = M - 1``: satisfied); ``sup`` (nc, M):
    cell ``i`` served in slot ``m``.  A cell's segments run between its bindings; it serves at
    one value per segment (its bit cost wherever it is served there).  Unknowns: per block the
    log price ratio and log power price, per segment the log value, per served (cell, block)
    the PRB shares; equations: bit cost = value, both pools full per block, each bound segment
    serves its arrivals, a free last segment ``w / v - eps`` of its demand.  The square system
    is solved by Newton's method (dense LU, residual backtracking) from the per-slot prices
    ``lN, lP`` (M) and per-slot PRB shares ``nsh0`` (nc).  The structure is rejected when its
    solution contradicts it: a negative share, a binding with a negative multiplier, a cell
    served beyond its arrivals at a block end, a cell left out of a block although its bit
    cost there is below its value.  The blocks are scheduled slot by slot (:func:`_suffix_schedule`);
    the allocation is accepted only if it attains the dual bound at its per-slot prices to
    round-off (1e-11, as the closed forms).  Fills ``nmat, pmat`` (nc, M), ``lam, mu`` (M);
    returns ``(solved, newton_evaluations, utility, bound)``.
    """
    nc, M = ah.shape
    fail = (False, 0, -INF, INF)
    if T >= M:
        return fail
    wsum = 0.0
    for i in range(nc):
        wsum += w[i]
    ahv = ah[:, 0].copy()
    lGa = np.empty(nc)
    for i in range(nc):
        lGa[i] = math.log(G[i] * ahv[i])
    na = 0
    for i in range(nc):
        for m in range(T, M):
            if sup[i, m]:
                na += 1
                break
    if na == 0:
        return fail
    act = np.empty(na, dtype=np.int64)
    a = 0
    for i in range(nc):
        for m in range(T, M):
            if sup[i, m]:
                act[a] = i
                a += 1
                break
    bound = np.zeros(M, dtype=np.bool_)
    _stair_boundaries(bind, sup, act, T, M, bound)
    Ls = M - T
    bstart = np.empty(Ls, dtype=np.int64)
    bend = np.empty(Ls, dtype=np.int64)
    blen = np.empty(Ls)
    segof = np.empty((na, Ls), dtype=np.int64)
    eix = np.empty((na, Ls), dtype=np.int64)
    nsegmax = na * Ls
    segcell = np.empty(nsegmax, dtype=np.int64)
    segfree = np.empty(nsegmax, dtype=np.bool_)
    segtgt = np.empty(nsegmax)
    segv0 = np.empty(nsegmax)
    segcnt = np.empty(nsegmax)
    nzmax = 2 * Ls + nsegmax + na * Ls
    z = np.empty(nzmax)
    z2 = np.empty(nzmax)
    F = np.empty(nzmax)
    F2 = np.empty(nzmax)
    dz = np.empty(nzmax)
    omw = np.empty((na, Ls))
    domw = np.empty((na, Ls))
    om2 = np.empty((na, Ls))
    dom2 = np.empty((na, Ls))
    evals = 0
    nb = 0
    m = T
    while m < M:
        bstart[nb] = m
        while m < M - 1 and not bound[m]:
            m += 1
        bend[nb] = m
        blen[nb] = m - bstart[nb] + 1
        nb += 1
        m += 1
    ne = 0
    for a in range(na):
        i = act[a]
        for k in range(nb):
            e = False
            for m in range(bstart[k], bend[k] + 1):
                if sup[i, m]:
                    e = True
            eix[a, k] = ne if e else -1
            if e:
                ne += 1
    nseg = np.int64(0)  # not a literal: numba would compile the callees for Literal[int](0) too
    for a in range(na):
        i = act[a]
        prevA = Acum[i, T - 1] if T > 0 else 0.0
        has = False
        for k in range(nb):
            segof[a, k] = nseg
            has = has or eix[a, k] >= 0
            e_ = bend[k]
            if k < nb - 1:
                if bind[i, e_]:
                    if not has:
                        bind[i, e_] = False  # nothing served since its last binding
                        continue
                    segcell[nseg] = a
                    segfree[nseg] = False
                    segtgt[nseg] = Acum[i, e_] - prevA
                    prevA = Acum[i, e_]
                    nseg += 1
                    has = False
            else:
                if bind[i, M - 1] and not has:
                    bind[i, M - 1] = False
                segcell[nseg] = a
                segfree[nseg] = not bind[i, M - 1]
                segtgt[nseg] = prevA if segfree[nseg] else 1.0 - prevA
                nseg += 1
    nz = 2 * nb + nseg + ne
    J = np.empty((nz, nz))
    oV = 2 * nb
    oN = 2 * nb + nseg
    for k in range(nb):
        sl = 0.0
        sp = 0.0
        for m in range(bstart[k], bend[k] + 1):
            sl += lN[m]
            sp += lP[m]
        if not (sl > 0.0 and sp > 0.0):
            return fail
        z[k] = math.log(sl / sp)
        z[nb + k] = math.log(sp / blen[k])
    for j in range(nseg):
        segv0[j] = 0.0
        segcnt[j] = 0.0
    tot = 0.0
    for a in range(na):
        tot += nsh0[act[a]]
    for a in range(na):
        i = act[a]
        for k in range(nb):
            e = eix[a, k]
            if e < 0:
                continue
            j = segof[a, k]
            segv0[j] += z[nb + k] + omega_of(math.exp(z[k]) * ahv[i]) - lGa[i]
            segcnt[j] += 1.0
            z[oN + e] = nsh0[i] / tot * blen[k]
    for j in range(nseg):
        if segcnt[j] > 0.0:
            z[oV + j] = segv0[j] / segcnt[j]
        else:
            z[oV + j] = math.log(w[act[segcell[j]]] / (eps + segtgt[j]))
    # Newton's method
    conv = False
    # warm = False here and True below, as runtime bools (nz >= 0 always): literal True/False
    # arguments make numba compile _stair_eval once per literal on a cold cache
    _stair_eval(
        z, nb, blen, ahv, lGa, G, w, eps, act, eix, segof, nseg, segcell, segfree,
        segtgt, F, omw, domw, nz < 0,
    )  # fmt: skip
    evals += 1
    for _ in range(30):
        nrm = 0.0
        for r in range(nz):
            nrm = max(nrm, abs(F[r]))
        if nrm < 1e-14:
            conv = True
            break
        _stair_jac(z, nb, ahv, G, w, act, eix, segof, nseg, segcell, segfree, J, nz, omw, domw)
        for r in range(nz):
            F2[r] = -F[r]
        if not _lu_solve(J, F2, dz, nz):
            return fail
        st = 1.0
        ok = False
        for _ in range(30):
            for r in range(nz):
                z2[r] = z[r] + st * dz[r]
            om2[:, :nb] = omw[:, :nb]
            _stair_eval(
                z2, nb, blen, ahv, lGa, G, w, eps, act, eix, segof, nseg, segcell,
                segfree, segtgt, F2, om2, dom2, nz >= 0,
            )  # fmt: skip
            evals += 1
            n2 = 0.0
            for r in range(nz):
                n2 = max(n2, abs(F2[r]))
            if n2 < nrm or n2 < 1e-14:
                ok = True
                break
            st *= 0.5
        if not ok:
            break
        for r in range(nz):
            z[r] = z2[r]
            F[r] = F2[r]
        omw[:, :nb] = om2[:, :nb]
        domw[:, :nb] = dom2[:, :nb]
    if not conv:
        return fail
    # the structure's own conditions: signs of shares and multipliers, causality
    for a in range(na):
        i = act[a]
        cum = Acum[i, T - 1] if T > 0 else 0.0
        for k in range(nb):
            e = eix[a, k]
            j = segof[a, k]
            if e >= 0:
                Nv = z[oN + e]
                if Nv < -1e-13 * blen[k]:
                    return fail
                cum += G[i] * omw[a, k] * max(Nv, 0.0)
            elif z[nb + k] + omega_of(math.exp(z[k]) * ahv[i]) - lGa[i] < z[oV + j] - 1e-12:
                return fail
            e_ = bend[k]
            if k < nb - 1:
                if bind[i, e_]:
                    if z[oV + j] > z[oV + segof[a, k + 1]] + 1e-13:
                        return fail
                elif cum > Acum[i, e_] * (1.0 + 1e-12):
                    return fail
            elif bind[i, M - 1]:
                if math.exp(z[oV + j]) > w[i] / (eps + 1.0) * (1.0 + 1e-13):
                    return fail
            elif cum > 1.0 + 1e-9:
                return fail
    # per-slot prices
    for m in range(T):
        lam[m] = 0.0
        mu[m] = 0.0
    for k in range(nb):
        for m in range(bstart[k], bend[k] + 1):
            mu[m] = math.exp(z[nb + k])
            lam[m] = math.exp(z[k]) * mu[m]
    nmat[:, :] = 0.0
    pmat[:, :] = 0.0
    if T > 0:  # free prefix: the forward pass must serve every arrival
        q = np.empty(nc)
        nn = np.empty(nc)
        pp = np.empty(nc)
        ahm = np.empty(nc)
        back = np.zeros(nc)
        zstate = np.full(1, np.nan)
        left = 0.0
        for m in range(T):
            left = _forward_slot(m, ah, ainc, G, back, q, ahm, nn, pp, zstate, nmat, pmat)
        if left > 0.0:
            return fail
    # each block: a causal slot-by-slot schedule of its shares
    oN = 2 * nb + nseg
    before = np.empty(na)
    for a in range(na):
        before[a] = Acum[act[a], T - 1] if T > 0 else 0.0
    for k in range(nb):
        L = bend[k] - bstart[k] + 1
        ahl = np.empty((na, L))
        Acs = np.empty((na, L))
        Gs = np.empty(na)
        xs = np.empty(na)
        nsh = np.empty(na)
        psh = np.empty(na)
        for a in range(na):
            i = act[a]
            e = eix[a, k]
            Nv = max(z[oN + e], 0.0) if e >= 0 else 0.0
            nsh[a] = Nv / L
            psh[a] = math.expm1(omw[a, k]) / ahv[i] * Nv / L
            xs[a] = G[i] * omw[a, k] * Nv
            Gs[a] = G[i]
            for j in range(L):
                ahl[a, j] = ah[i, bstart[k] + j]
                Acs[a, j] = max(Acum[i, bstart[k] + j] - before[a], 0.0)
            xs[a] = min(xs[a], Acs[a, L - 1])
        nsub = np.empty((na, L))
        psub = np.empty((na, L))
        if not _suffix_schedule(ahl, Acs, Gs, xs, nsh, psh, 1.0, nsub, psub):
            return fail
        for a in range(na):
            i = act[a]
            before[a] += xs[a]
            for j in range(L):
                nmat[i, bstart[k] + j] = nsub[a, j]
                pmat[i, bstart[k] + j] = psub[a, j]
    U = _utility_of(nmat, pmat, ah, ainc, G, w, eps)
    ub = dual_value(ah, ainc, G, w, eps, lam, mu)
    return ub - U <= 1e-11 * (abs(U) + wsum), evals, U, ub


@njit(**_JIT)
def staircase_search(ah, ainc, Acum, G, w, eps, backlog, tries, nmat, pmat, lam, mu):
    """Two price blocks with one swing cell, found by a short search (no interior point).

    The optimum of a satellite that the closed forms cannot settle is a free prefix (maybe
    empty) and a staircase of price blocks; at each boundary every served cell is caught up
    with its arrivals except one, the swing cell, whose bit cost is the same on both sides.
    The ratio of a cell's bit costs in two blocks is monotone in its SNR, so the swing cell
    is the cell of largest or smallest SNR.  Candidates with one boundary: free prefix at the
    forward pass's latest cleared slot (``backlog`` (nc, M): what it leaves after each slot)
    or none, x boundary slot, x those two swing cells, ordered by (that prefix first, an
    unsatisfied swing cell first -- satisfaction from the single pool over the suffix -- the
    other cells' backlog at the boundary); the first ``tries`` go to :func:`block_newton`
    (accepted only at the dual bound).  Fills ``nmat, pmat, lam,
    mu`` like :func:`prefix_suffix`; returns ``(solved, iterations, utility, bound)``.
    """
    nc, M = ah.shape
    iters = 0
    if M < 2 or nc < 1:
        return False, iters, -INF, INF
    Tc = 0
    for t in range(M - 1, 0, -1):
        left = 0.0
        for i in range(nc):
            left += backlog[i, t - 1]
        if left <= 0.0:
            Tc = t
            break
    smax = 0
    smin = 0
    for i in range(1, nc):
        if ah[i, 0] > ah[smax, 0]:
            smax = i
        if ah[i, 0] < ah[smin, 0]:
            smin = i
    ncand_max = 2 * 2 * M
    keyT = np.empty(ncand_max, dtype=np.int64)
    keyU = np.empty(ncand_max, dtype=np.int64)
    keyB = np.empty(ncand_max)
    cT = np.empty(ncand_max, dtype=np.int64)
    cb = np.empty(ncand_max, dtype=np.int64)
    cs = np.empty(ncand_max, dtype=np.int64)
    xsT = np.empty((2, nc))
    capT = np.empty((2, nc))
    nshT = np.empty((2, nc))
    lamT = np.empty(2)
    muT = np.empty(2)
    psh = np.empty(nc)
    off = np.empty(nc)
    nTs = 1 if Tc == 0 else 2
    nk = 0
    for h in range(nTs):
        T = Tc if h == 0 else 0
        L = M - T
        for i in range(nc):
            off[i] = Acum[i, T - 1] if T > 0 else 0.0
            capT[h, i] = 1.0 - off[i]
        Gp = G * L
        lam1, mu1, it = single_pool_off(
            ah[:, T].copy(), Gp, w, eps, off, capT[h], xsT[h], nshT[h], psh
        )
        iters += it
        lamT[h] = lam1 / L
        muT[h] = mu1 / L
        if not (lam1 > 0.0 and mu1 > 0.0):
            continue
        for b in range(T, M - 1):
            for u in range(2):
                s = smax if u == 0 else smin
                if u == 1 and smin == smax:
                    continue
                if xsT[h, s] <= 0.0:
                    continue
                other = 0.0
                for i in range(nc):
                    if i != s:
                        other += backlog[i, b]
                keyT[nk] = h
                keyU[nk] = 0 if xsT[h, s] < capT[h, s] * (1.0 - 1e-12) else 1
                keyB[nk] = other
                cT[nk] = h
                cb[nk] = b
                cs[nk] = s
                nk += 1
    bind = np.zeros((nc, M), dtype=np.bool_)
    sup = np.zeros((nc, M), dtype=np.bool_)
    lN = np.empty(M)
    lP = np.empty(M)
    used = np.zeros(nk, dtype=np.bool_)
    for _ in range(min(tries, nk)):
        best = -1
        for c in range(nk):  # the next candidate in (prefix, satisfied swing, backlog) order
            if used[c]:
                continue
            if best < 0:
                best = c
            elif keyT[c] != keyT[best]:
                if keyT[c] < keyT[best]:
                    best = c
            elif keyU[c] != keyU[best]:
                if keyU[c] < keyU[best]:
                    best = c
            elif keyB[c] < keyB[best]:
                best = c
        used[best] = True
        h = cT[best]
        T = Tc if h == 0 else 0
        b = cb[best]
        s = cs[best]
        for i in range(nc):
            for m in range(M):
                bind[i, m] = False
                sup[i, m] = m >= T and xsT[h, i] > 0.0
            if i != s and xsT[h, i] > 0.0:
                bind[i, b] = True
            if xsT[h, i] > 0.0 and xsT[h, i] >= capT[h, i] * (1.0 - 1e-12):
                bind[i, M - 1] = True
        for m in range(M):
            lN[m] = lamT[h] if m >= T else 0.0
            lP[m] = muT[h] if m >= T else 0.0
        ok, ev, U, ub = block_newton(
            ah, ainc, Acum, G, w, eps, T, bind, sup, lN, lP, nshT[h], nmat, pmat, lam, mu
        )
        iters += ev
        if ok:
            return True, iters, U, ub
    return False, iters, -INF, INF


@njit(**_JIT)
def closed_form(ah, ainc, G, w, eps, force_ipm, nested, nmat, pmat, lam, mu, nsh, psh):
    """Closed-form attempt for one satellite (no interior point).

    Without fading: the single-pool solution at uniform prices, spread over the fast slots by
    :func:`schedule_uniform` (or :func:`schedule_all_satisfied` when everybody can be served).
    With fading: :func:`schedule_all_satisfied`.  Fills ``nmat, pmat`` (nc, M), the prices
    ``lam, mu`` (M) and the single-pool shares ``nsh, psh`` (nc) that warm-start the interior
    point.  With ``nested``, a satellite the uniform prices cannot settle is tried with a free
    prefix and a uniform-price suffix (:func:`prefix_suffix`, per-slot prices), then with a
    staircase of two price blocks (:func:`staircase_search`).  Returns
    ``(solved, iterations, utility, bound, path)`` (``path``: :data:`ST_CLOSED`, :data:`ST_SPLIT`
    or :data:`ST_STAIR`; :data:`ST_PENDING` when not solved); when not solved, ``bound`` is
    still a valid upper bound (``inf`` if unknown).
    """
    nc, M = ah.shape
    Acum = np.empty((nc, M))
    _cumulative(ainc, Acum)
    if _is_fading(ah):
        for i in range(nc):
            nsh[i] = 1.0 / (nc + 1.0)
            psh[i] = 1.0 / (nc + 1.0)
        lam[:] = 0.0
        mu[:] = 0.0
        if not force_ipm and schedule_all_satisfied(ah, Acum, G, nmat, pmat):
            U = _utility_of(nmat, pmat, ah, ainc, G, w, eps)
            return True, M, U, dual_value(ah, ainc, G, w, eps, lam, mu), ST_CLOSED
        return False, M, -INF, INF, ST_PENDING
    if not force_ipm:
        # everybody may be served: the most even causal schedules, if they fit, attain the
        # largest possible utility (prices 0); the single-pool search is then not needed.
        # Their last slot asks the most of every cell; the equal-efficiency witness settles
        # nearly all of them (europe-starlink: 2,876 of 2,910).  The rest go through the
        # single pool, whose mu = 0 says whether everybody can be served (then the least-power
        # search on the most even schedules, below).
        inc = np.empty((nc, M))
        q = np.empty(nc)
        nn = np.empty(nc)
        tot = _even_peaks(Acum, G, inc, q)
        if _equal_efficiency_fits(ah[:, 0].copy(), q, tot, nn):
            _serve_even(ah, inc, G, nn, nmat, pmat)
            for i in range(nc):
                nsh[i] = 1.0 / nc
                psh[i] = 1.0 / nc
            lam[:] = 0.0
            mu[:] = 0.0
            U = _utility_of(nmat, pmat, ah, ainc, G, w, eps)
            return True, 1, U, dual_value(ah, ainc, G, w, eps, lam, mu), ST_CLOSED
    xi = np.empty(nc)
    lam1, mu1, iters = single_pool(ah[:, 0].copy(), G * M, w, eps, xi, nsh, psh)
    for m in range(M):
        lam[m] = lam1 / M
        mu[m] = mu1 / M
    ok = schedule_uniform(xi, nsh, psh, Acum, nmat, pmat)
    if not ok and mu1 == 0.0:
        ok = schedule_all_satisfied(ah, Acum, G, nmat, pmat)
    ub = dual_value(ah, ainc, G, w, eps, lam, mu)
    if force_ipm:
        return False, iters, -INF, ub, ST_PENDING
    if ok:
        return True, iters, _utility_of(nmat, pmat, ah, ainc, G, w, eps), ub, ST_CLOSED
    if mu1 > 0.0 and schedule_greedy(xi, nsh, psh, Acum, nmat, pmat):
        # accept only what the uniform-price bound certifies (round-off aside)
        U = _utility_of(nmat, pmat, ah, ainc, G, w, eps)
        wsum = 0.0
        for i in range(nc):
            wsum += w[i]
        if ub - U <= 1e-11 * (abs(U) + wsum):
            return True, iters, U, ub, ST_CLOSED
    if nested:
        lam2 = np.empty(M)
        mu2 = np.empty(M)
        backlog = np.empty((nc, M))
        rho_u = lam1 / mu1 if mu1 > 0.0 else 1.0
        ok2, it2, U2, ub2 = prefix_suffix(
            ah, ainc, Acum, G, w, eps, rho_u, nmat, pmat, lam2, mu2, backlog
        )
        iters += it2
        path = ST_SPLIT
        if not ok2:
            ok2, it2, U2, ub2 = staircase_search(
                ah, ainc, Acum, G, w, eps, backlog, STAIR_TRIES, nmat, pmat, lam2, mu2
            )
            iters += it2
            path = ST_STAIR
        if ok2:
            lam[:] = lam2
            mu[:] = mu2
            return True, iters, U2, ub2, path
    return False, iters, -INF, ub, ST_PENDING


@njit(**_JIT)
def _problem_arrays(x, a, g, N, P, scale, K, w, b, s, D, idx):
    """Normalised arrays of satellite ``s`` in batch item ``b`` (cells it can serve)."""
    C = x.shape[2]
    M = a.shape[2]
    Mg = g.shape[3]
    nc = 0
    for c in range(C):
        if x[b, s, c] and D[c] > 0.0:
            anyg = False
            for mg in range(Mg):
                if g[b, s, c, mg] > 0.0:
                    anyg = True
            if anyg:
                idx[nc] = c
                nc += 1
    Ns = N[b, s]
    Ps = P[b, s]
    ah = np.empty((nc, M))
    ainc = np.empty((nc, M))
    Gc = np.empty(nc)
    wc = np.empty(nc)
    for k in range(nc):
        c = idx[k]
        for m in range(M):
            ah[k, m] = g[b, s, c, m if Mg > 1 else 0] * scale * Ps / Ns
            ainc[k, m] = a[b, c, m] / D[c]
        Gc[k] = K * Ns / D[c]
        wc[k] = w[b, c]
    return nc, ah, ainc, Gc, wc


@njit(**_JIT)
def _demand(a, b):
    C = a.shape[1]
    M = a.shape[2]
    D = np.zeros(C)
    for c in range(C):
        for m in range(M):
            D[c] += a[b, c, m]
    return D


@njit(**_JIT)
def _closed_sat(
    x, a, g, N, P, scale, K, eps, w, force_ipm, nested,
    n, p, lam, mu, status, iters, ubs, nsh_all, psh_all, usat, b, s, D, idx, lamv, muv, served,
):  # fmt: skip
    """Closed-form pass for satellite ``s`` of batch item ``b`` (its entries only).

    ``D`` (C,) are the item's demands; ``idx`` (C,), ``lamv, muv`` (M,) work space; the
    item's cells that the satellite can serve are marked in ``served`` (C,).
    """
    M = a.shape[2]
    nc, ah, ainc, Gc, wc = _problem_arrays(x, a, g, N, P, scale, K, w, b, s, D, idx)
    if nc == 0:
        return
    nmat = np.zeros((nc, M))
    pmat = np.zeros((nc, M))
    nsh = np.empty(nc)
    psh = np.empty(nc)
    ok, it, U, ub, path = closed_form(
        ah, ainc, Gc, wc, eps, force_ipm, nested, nmat, pmat, lamv, muv, nsh, psh
    )
    iters[b, s] = it
    ubs[b, s] = ub
    usat[b, s] = U
    Ns = N[b, s]
    Ps = P[b, s]
    for k in range(nc):
        c = idx[k]
        served[c] = True
        nsh_all[b, c] = nsh[k]
        psh_all[b, c] = psh[k]
        if ok:
            for m in range(M):
                n[b, c, m] = nmat[k, m] * Ns
                p[b, c, m] = pmat[k, m] * Ps
    for m in range(M):
        lam[b, s, m] = lamv[m] / Ns
        mu[b, s, m] = muv[m] / Ps
    status[b, s] = path if ok else ST_PENDING


@njit(**_JIT)
def _unserved_utility(D, served, w, eps, b):
    """``w log eps`` summed over item ``b``'s cells with demand that no satellite can serve."""
    f = 0.0
    for c in range(D.shape[0]):
        if D[c] > 0.0 and not served[c]:
            f += w[b, c] * math.log(eps)
    return f


@njit(**_JIT)
def _pending_setup(x, a, g, N, P, scale, K, eps, w, b, s, D, idx, nsh_all, psh_all):
    """Normalised arrays and strictly feasible interior-point start of satellite ``(b, s)``.

    The start lies near the single-pool shares ``nsh_all, psh_all`` (see
    :func:`interior_start`).  Returns ``(nc, ah, ainc, Gc, wc, Acum, nn, pp, yy, U0)`` with
    ``U0`` the start's utility (a lower bound on the satellite's optimum).
    """
    M = a.shape[2]
    nc, ah, ainc, Gc, wc = _problem_arrays(x, a, g, N, P, scale, K, w, b, s, D, idx)
    nmat = np.empty((nc, M))
    pmat = np.empty((nc, M))
    for i in range(nc):
        for m in range(M):
            nmat[i, m] = nsh_all[b, idx[i]]
            pmat[i, m] = psh_all[b, idx[i]]
    Acum = np.empty((nc, M))
    _cumulative(ainc, Acum)
    nn = np.empty((nc, M))
    pp = np.empty((nc, M))
    yy = np.empty((nc, M))
    interior_start(ah, Acum, ainc, Gc, eps, nmat, pmat, 0.9, nn, pp, yy)
    U0 = 0.0
    for i in range(nc):
        U0 += wc[i] * math.log(eps + yy[i, M - 1])
    return nc, ah, ainc, Gc, wc, Acum, nn, pp, yy, U0


@njit(**_JIT)
def solve_pending(
    x,
    a,
    g,
    N,
    P,
    scale,
    K,
    eps,
    w,
    b,
    s,
    D,
    idx,
    gap_tol,
    mu_factor,
    max_iter,
    nsh_all,
    psh_all,
    n,
    p,
    lam,
    mu,
    status,
    iters,
    ubs,
):
    """Interior point for satellite ``s`` of batch item ``b``; results written in place.

    Stops at a surrogate duality gap ``<= gap_tol`` (absolute, in utility).  The bound kept is
    the better of the interior point's certificate and the one already in ``ubs`` (with the
    matching prices ``lam, mu``).  ``D`` (C,) are the item's demands, ``idx`` (C,) work space.
    """
    M = a.shape[2]
    nc, ah, ainc, Gc, wc, Acum, nn, pp, yy, U0 = _pending_setup(
        x, a, g, N, P, scale, K, eps, w, b, s, D, idx, nsh_all, psh_all
    )
    Ns = N[b, s]
    Ps = P[b, s]
    lamv = np.empty(M)
    muv = np.empty(M)
    for m in range(M):
        lamv[m] = lam[b, s, m] * Ns
        muv[m] = mu[b, s, m] * Ps
    wsum = 0.0
    for i in range(nc):
        wsum += wc[i]
    ub = ubs[b, s]
    if ub == INF:
        ub = wsum * math.log1p(eps)
    mcons = 4.0 * nc * M + 2.0 * M
    t0 = mcons / max(ub - U0, 1e-9 * (abs(U0) + 1.0))
    lam2 = np.empty(M)
    mu2 = np.empty(M)
    it, conv = ipm(
        ah, Acum, Gc, wc, eps, nn, pp, yy, t0, gap_tol, mu_factor, max_iter, lam2, mu2, ainc, ub
    )
    # fill the pools (rates only grow)
    for m in range(M):
        sn = 0.0
        sp = 0.0
        for i in range(nc):
            sn += nn[i, m]
            sp += pp[i, m]
        fn = 1.0 / sn if sn > 0 else 1.0
        fp = 1.0 / sp if sp > 0 else 1.0
        for i in range(nc):
            nn[i, m] *= fn
            pp[i, m] *= fp
    ub2 = dual_value(ah, ainc, Gc, wc, eps, lam2, mu2)
    if ub2 <= ub:  # else the warm-start prices certify better: keep those
        ub = ub2
        lamv[:] = lam2
        muv[:] = mu2
    status[b, s] = ST_IPM if conv else ST_IPM_MAXIT
    iters[b, s] += it
    ubs[b, s] = ub
    for k in range(nc):
        c = idx[k]
        for m in range(M):
            n[b, c, m] = nn[k, m] * Ns
            p[b, c, m] = pp[k, m] * Ps
    for m in range(M):
        lam[b, s, m] = lamv[m] / Ns
        mu[b, s, m] = muv[m] / Ps


@njit(**_JIT)
def evaluate_kernel(x, n, p, g, scale, a, N, P, K, project):
    """Greedy causal service of an allocation; optional projection onto the pools.

    Returns served bits ``z`` (B, C, M), their sums ``served`` and the demands ``D`` (B, C),
    the ``no_satellite`` mask (demand but no satellite with a positive gain) and, per batch
    item, the largest relative pool violation before projection and after it (which is what
    the caller reports).  ``n, p`` are modified in place (see
    :func:`oracles.p1.result.evaluate_allocation`).
    """
    B, S, C, M = n.shape
    sat_of = np.empty((B, C), dtype=np.int64)
    _sat_of(x, sat_of)
    nc_ = np.zeros((B, C, M))
    pc_ = np.zeros((B, C, M))
    for b in range(B):
        for c in range(C):
            s = sat_of[b, c]
            if s >= 0:
                for m in range(M):
                    nc_[b, c, m] = n[b, s, c, m]
                    pc_[b, c, m] = p[b, s, c, m]
    z = np.zeros((B, C, M))
    served = np.zeros((B, C))
    D = np.zeros((B, C))
    no_sat = np.zeros((B, C), dtype=np.bool_)
    viol_before = np.zeros(B)
    viol_after = np.zeros(B)
    for b in range(B):
        viol_before[b], viol_after[b] = _pool_violation(sat_of, nc_, pc_, N, P, b, project)
        _service_item(sat_of, nc_, pc_, g, scale, a, K, b, z, served, D, no_sat)
    _scatter(sat_of, nc_, pc_, n, p)
    return z, served, D, no_sat, viol_before, viol_after


@njit(**_JIT)
def _sat_of(x, sat_of):
    """Serving satellite of every cell (``-1``: none) from the association ``x`` (B, S, C)."""
    B, S, C = x.shape
    for b in range(B):
        for c in range(C):
            so = -1
            for s in range(S):
                if x[b, s, c]:
                    so = s
            sat_of[b, c] = so


@njit(**_JIT)
def _scatter(sat_of, nc_, pc_, n, p):
    """Cell-indexed allocations ``nc_, pc_`` (B, C, M) into ``n, p`` (B, S, C, M) (0 elsewhere)."""
    B, S, C, M = n.shape
    for b in range(B):
        for s in range(S):
            for c in range(C):
                mine = sat_of[b, c] == s
                for m in range(M):
                    n[b, s, c, m] = nc_[b, c, m] if mine else 0.0
                    p[b, s, c, m] = pc_[b, c, m] if mine else 0.0


@njit(**_JIT)
def _pool_violation(sat_of, n, p, N, P, b, project):
    """Largest relative pool violation of item ``b`` before and after projecting (in place).

    ``n, p`` (B, C, M) are indexed by cell (each cell has one serving satellite,
    ``sat_of[b, c]``, -1: none); negative entries are set to 0, and with ``project`` every
    (satellite, slot) whose pool sum exceeds the pool is scaled back onto it.  Each pool sum
    adds its cells in increasing order, as a dense (S, C) loop would.
    """
    C, M = n.shape[1], n.shape[2]
    S = N.shape[1]
    sn = np.zeros((S, M))
    sp = np.zeros((S, M))
    for c in range(C):
        s = sat_of[b, c]
        for m in range(M):
            if s < 0:
                n[b, c, m] = 0.0
                p[b, c, m] = 0.0
                continue
            if n[b, c, m] < 0.0:
                n[b, c, m] = 0.0
            if p[b, c, m] < 0.0:
                p[b, c, m] = 0.0
            sn[s, m] += n[b, c, m]
            sp[s, m] += p[b, c, m]
    before = 0.0
    fn = np.zeros((S, M))  # projection factors (0: not scaled)
    fp = np.zeros((S, M))
    for s in range(S):
        for m in range(M):
            vn = (sn[s, m] - N[b, s]) / N[b, s]
            vp = (sp[s, m] - P[b, s]) / P[b, s]
            before = max(before, vn, vp)
            if project and vn > 0.0:
                fn[s, m] = N[b, s] / sn[s, m]
            if project and vp > 0.0:
                fp[s, m] = P[b, s] / sp[s, m]
            sn[s, m] = 0.0
            sp[s, m] = 0.0
    for c in range(C):
        s = sat_of[b, c]
        if s < 0:
            continue
        for m in range(M):
            if fn[s, m] > 0.0:
                n[b, c, m] *= fn[s, m]
            if fp[s, m] > 0.0:
                p[b, c, m] *= fp[s, m]
            sn[s, m] += n[b, c, m]
            sp[s, m] += p[b, c, m]
    after = 0.0
    for s in range(S):
        for m in range(M):
            after = max(after, (sn[s, m] - N[b, s]) / N[b, s], (sp[s, m] - P[b, s]) / P[b, s])
    return before, after


@njit(**_JIT)
def _service_item(sat_of, n, p, g, scale, a, K, b, z, served, D, no_sat):
    """Greedy causal service of item ``b``'s allocation: fills ``z, served, D, no_sat``.

    ``n, p`` (B, C, M) indexed by cell, ``sat_of`` (B, C) the serving satellites (-1: none).
    """
    C, M = n.shape[1], n.shape[2]
    Mg = g.shape[3]
    for c in range(C):
        s_of = sat_of[b, c]
        reach = False
        if s_of >= 0:
            for mg in range(Mg):
                if g[b, s_of, c, mg] > 0.0:
                    reach = True
        back = 0.0
        tot = 0.0
        dem = 0.0
        for m in range(M):
            back += a[b, c, m]
            r = 0.0
            if s_of >= 0:
                nn = n[b, c, m]
                pp = p[b, c, m]
                if nn > 0.0 and pp > 0.0:
                    al = g[b, s_of, c, m if Mg > 1 else 0] * scale
                    r = K * nn * math.log1p(al * pp / nn)
            zz = min(back, r)
            z[b, c, m] = zz
            back -= zz
            tot += zz
            dem += a[b, c, m]
        served[b, c] = tot
        D[b, c] = dem
        no_sat[b, c] = dem > 0.0 and not reach


@njit(**_JIT)
def _item_utility(served, D, w, eps, b):
    """``sum_c w log(eps + min(1, served / D))`` over the cells of item ``b`` with demand."""
    U = 0.0
    for c in range(D.shape[1]):
        if D[b, c] > 0.0:
            U += w[b, c] * math.log(eps + min(1.0, served[b, c] / D[b, c]))
    return U


@njit(**_JIT)
def _item_round(
    x, a, g, N, P, scale, K, eps, w, rnd, todo, gtol, mu_factor, max_iter, nsh, psh,
    n, p, lam, mu, status, iters, ubs, z, served, Dall, no_sat, vb, va, sat_of, b,
):  # fmt: skip
    """One round of :func:`solve_kernel` for batch item ``b``: interior points, then scoring.

    Writes only item ``b``'s entries.
    """
    S = x.shape[1]
    if todo[b]:
        D = _demand(a, b)
        idx = np.empty(x.shape[2], dtype=np.int64)
        for s in range(S):
            if gtol[b, s] > 0.0:
                solve_pending(
                    x, a, g, N, P, scale, K, eps, w, b, s, D, idx, gtol[b, s], mu_factor,
                    max_iter, nsh, psh, n, p, lam, mu, status, iters, ubs,
                )  # fmt: skip
    if rnd == 0 or todo[b]:
        vb[b], va[b] = _pool_violation(sat_of, n, p, N, P, b, True)
        _service_item(sat_of, n, p, g, scale, a, K, b, z, served, Dall, no_sat)


@njit(**_JIT)
def _round_serial(
    x, a, g, N, P, scale, K, eps, w, rnd, todo, gtol, mu_factor, max_iter, nsh, psh,
    n, p, lam, mu, status, iters, ubs, z, served, Dall, no_sat, vb, va, sat_of,
):  # fmt: skip
    """:func:`_item_round` for every batch item, in order."""
    for b in range(x.shape[0]):
        _item_round(
            x, a, g, N, P, scale, K, eps, w, rnd, todo, gtol, mu_factor, max_iter, nsh, psh,
            n, p, lam, mu, status, iters, ubs, z, served, Dall, no_sat, vb, va, sat_of, b,
        )  # fmt: skip


@njit(**_JIT)
def _tolerances(x, a, g, N, P, scale, K, eps, w, tol, status, ubs, nsh, psh, fixed, usat):
    """Interior-point tolerances ``gtol`` (B, S) and the items to solve ``todo`` (B,).

    See :func:`solve_kernel`: each of the ``q_b`` interior-point satellites of item ``b``
    stops at a surrogate gap ``tol |U_b| / q_b``.
    """
    B, S, C = x.shape
    idx = np.empty(C, dtype=np.int64)
    gtol = np.zeros((B, S))
    todo = np.zeros(B, dtype=np.bool_)
    for b in range(B):
        q = 0
        qs = 0  # satellites the split path settled: they keep their share of the tolerance
        tot = fixed[b]
        D = _demand(a, b)
        for s in range(S):
            if status[b, s] == ST_SPLIT or status[b, s] == ST_STAIR:
                qs += 1
            if status[b, s] == ST_PENDING:
                q += 1
                if ubs[b, s] < INF:
                    tot += ubs[b, s]
                else:
                    setup = _pending_setup(x, a, g, N, P, scale, K, eps, w, b, s, D, idx, nsh, psh)
                    tot += setup[9]
            elif status[b, s] == ST_CLOSED or status[b, s] == ST_SPLIT or status[b, s] == ST_STAIR:
                tot += usat[b, s]
        if q > 0:
            todo[b] = True
            for s in range(S):
                if status[b, s] == ST_PENDING:
                    gtol[b, s] = tol * max(abs(tot), 1e-12) / (q + qs)
    return gtol, todo


@njit(**_JIT)
def _check_round(rnd, todo, gtol, served, Dall, w, eps, fixed, ubs, target_gap):
    """After round ``rnd``: items still above ``target_gap`` get 100x smaller tolerances.

    Updates ``todo, gtol`` in place; returns whether another round is needed.
    """
    B, S = ubs.shape
    again = False
    for b in range(B):
        if not todo[b]:
            continue
        U = _item_utility(served, Dall, w, eps, b)
        bd = fixed[b]
        for s in range(S):
            bd += ubs[b, s]
        todo[b] = rnd < 2 and bd - U > target_gap * abs(U)
        if todo[b]:
            again = True
            for s in range(S):
                gtol[b, s] *= 0.01
    return again


@njit(**_JIT)
def _finish(served, Dall, w, eps, fixed, ubs):
    """Per-item utility and bound (B,) of the final allocation."""
    B, S = ubs.shape
    bound = np.zeros(B)
    util = np.zeros(B)
    for b in range(B):
        util[b] = _item_utility(served, Dall, w, eps, b)
        bound[b] = fixed[b]
        for s in range(S):
            bound[b] += ubs[b, s]
    return bound, util


@intrinsic
def _fetch_add(typingctx, ary, i, v):
    """Atomic ``ary[i] += v`` (sequentially consistent); returns the old value.

    ``ary`` a 1-D int64 array shared by the threads of :func:`thread_worker`; ``v = 0`` is an
    atomic load.
    """
    sig = types.int64(ary, i, v)

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        arr = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, arr, [args[1]])
        val = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, val, "seq_cst")

    return sig, codegen


@intrinsic
def _sched_yield(typingctx):
    """``sched_yield()`` of the C library: lets a waiting thread give its core away."""
    sig = types.int32()

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.IntType(32), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "sched_yield")
        return builder.call(fn, [])

    return sig, codegen


# slots of the shared counter array ``ctr`` of :func:`_stages`
_C_JOIN = 0  # threads that joined (+ _CLOSED once the first stage is over: no more joiners)
_C_TEAM = 1  # team size, published by thread 0 when it closes the membership (0: not yet)
_C_CLOSED_FORM = 2  # next (item, satellite) pair of the closed-form stage
_C_IPM = 3  # next interior-point job
_C_NJOBS = 4  # number of interior-point jobs (valid after barrier 1)
_C_SCORE = 5  # next item to score
_C_BAR = 6  # barriers 1, 2, 3 at _C_BAR + 0, 1, 2
_CTR_LEN = 9
_CLOSED = 1 << 40


@njit(**_JIT)
def _barrier(ctr, k, team):
    """Wait until ``team`` threads have reached barrier slot ``k`` (spinning, yielding)."""
    _fetch_add(ctr, k, 1)
    while _fetch_add(ctr, k, 0) < team:
        _sched_yield()


@njit(**_JIT)
def new_state(B, S, C, M):
    """Work arrays of :func:`_stages` for a batch of shape (B, S, C, M), zeroed.

    Allocations are stored per cell, (B, C, M): a cell has one serving satellite (``sat_of``),
    so the dense (B, S, C, M) layout would be mostly zeros (``europe-starlink``: 168
    satellites, 304 cells; allocating and scanning it took more than half of a call).
    """
    return (
        np.zeros((B, C, M)),  # n: PRBs of each cell (from its one serving satellite)
        np.zeros((B, C, M)),  # p: power of each cell
        np.zeros((B, S, M)),  # lam
        np.zeros((B, S, M)),  # mu
        np.zeros((B, S), dtype=np.int64),  # status
        np.zeros((B, S), dtype=np.int64),  # iters
        np.zeros((B, S)),  # ubs
        np.zeros((B, S)),  # usat
        np.zeros((B, C)),  # nsh: single-pool shares of each cell
        np.zeros((B, C)),  # psh
        np.zeros(B),  # fixed
        np.zeros((B, C), dtype=np.bool_),  # reach: cells some satellite can serve
        np.zeros((B, C)),  # Dm: demands
        np.zeros((B, C, M)),  # z
        np.zeros((B, C)),  # served
        np.zeros((B, C)),  # Dall
        np.zeros((B, C), dtype=np.bool_),  # no_sat
        np.zeros(B),  # vb
        np.zeros(B),  # va
        np.zeros((B, S)),  # gtol
        np.zeros(B, dtype=np.bool_),  # todo
        np.zeros(B * S, dtype=np.int64),  # jobs
        np.full((B, C), -1, dtype=np.int64),  # sat_of: serving satellite of each cell
        np.zeros(_CTR_LEN, dtype=np.int64),  # ctr
    )


@njit(**_JIT)
def _ipm_jobs(x, Dm, gtol, jobs):
    """Interior-point jobs (pairs ``b * S + s`` with ``gtol > 0``), most cells first.

    Most cells first so that the threads of :func:`_stages` finish together (longest job
    first); the order does not change any number.  Returns the number of jobs.
    """
    B, S, C = x.shape
    nj = 0
    size = np.zeros(B * S, dtype=np.int64)
    for b in range(B):
        for s in range(S):
            if gtol[b, s] > 0.0:
                nc = 0
                for c in range(C):
                    if x[b, s, c] and Dm[b, c] > 0.0:
                        nc += 1
                j = nj  # insertion, stable among equal sizes
                while j > 0 and size[j - 1] < nc:
                    jobs[j] = jobs[j - 1]
                    size[j] = size[j - 1]
                    j -= 1
                jobs[j] = b * S + s
                size[j] = nc
                nj += 1
    return nj


@njit(**_JIT)
def _stages(
    x, a, g, N, P, scale, K, eps, w, force_ipm, nested, tol, mu_factor, max_iter, target_gap,
    n, p, lam, mu, status, iters, ubs, usat, nsh, psh, fixed, reach, Dm, z, served, Dall,
    no_sat, vb, va, gtol, todo, jobs, sat_of, ctr, tid,
):  # fmt: skip
    """The fast solver's stages on a canonical batch, run by one thread of a team.

    Arguments as in :func:`solve_kernel`, the work arrays of :func:`new_state` (shared by the
    team, ``Dm`` holding the demands) and the thread's number ``tid`` (0: the caller's thread).
    Stages: (1) the closed form over all (item, satellite) pairs; (2, thread 0) the
    interior-point tolerances (:func:`_tolerances`); (3) the interior points; (4) the scoring
    (pool projection, greedy causal service) over the items; (5, thread 0) the re-solve rounds
    of items still above ``target_gap`` (rare; serial).  The threads take the next pair, job
    or item from shared atomic counters and wait for each other between stages.  Every piece
    writes only its own entries, so the numbers do not depend on the team size or on which
    thread ran what.

    Membership: a thread joins (counter ``_C_JOIN``) when it starts; thread 0 closes the team
    when it has run out of closed-form pairs, so a helper that starts late (a busy machine)
    is not waited for -- it finds the team closed and returns.
    """
    B, S, C = x.shape
    M = a.shape[2]
    if _fetch_add(ctr, _C_JOIN, 1) >= _CLOSED:
        return  # arrived after thread 0 closed the team: nothing to do
    idx = np.empty(C, dtype=np.int64)
    lamv = np.empty(M)
    muv = np.empty(M)
    # satellites that serve no cell have nothing to solve: skipped here instead of in
    # _closed_sat after a scan of every cell (europe-starlink: ~120 of 168, ~0.8 us each)
    busy = np.zeros((B, S), dtype=np.bool_)
    for b in range(B):
        for c in range(C):
            if sat_of[b, c] >= 0:
                busy[b, sat_of[b, c]] = True
    while True:
        j = _fetch_add(ctr, _C_CLOSED_FORM, 1)
        if j >= B * S:
            break
        b = j // S
        s = j - b * S
        if not busy[b, s]:
            continue
        _closed_sat(
            x, a, g, N, P, scale, K, eps, w, force_ipm, nested,
            n, p, lam, mu, status, iters, ubs, nsh, psh, usat, b, s, Dm[b], idx, lamv, muv,
            reach[b],
        )  # fmt: skip
    if tid == 0:
        team = _fetch_add(ctr, _C_JOIN, _CLOSED)
        _fetch_add(ctr, _C_TEAM, team)
    else:
        while _fetch_add(ctr, _C_TEAM, 0) == 0:
            _sched_yield()
        team = _fetch_add(ctr, _C_TEAM, 0)
    _barrier(ctr, _C_BAR, team)  # every closed-form pair is done
    if tid == 0:
        for b in range(B):
            fixed[b] += _unserved_utility(Dm[b], reach[b], w, eps, b)
        gt, td = _tolerances(
            x, a, g, N, P, scale, K, eps, w, tol, status, ubs, nsh, psh, fixed, usat
        )
        gtol[:] = gt
        todo[:] = td
        _fetch_add(ctr, _C_NJOBS, _ipm_jobs(x, Dm, gtol, jobs))
    _barrier(ctr, _C_BAR + 1, team)  # tolerances and jobs published
    nj = _fetch_add(ctr, _C_NJOBS, 0)
    while True:
        q = _fetch_add(ctr, _C_IPM, 1)
        if q >= nj:
            break
        b = jobs[q] // S
        s = jobs[q] - b * S
        solve_pending(
            x, a, g, N, P, scale, K, eps, w, b, s, Dm[b], idx, gtol[b, s], mu_factor,
            max_iter, nsh, psh, n, p, lam, mu, status, iters, ubs,
        )  # fmt: skip
    _barrier(ctr, _C_BAR + 2, team)  # every interior point is done
    while True:
        b = _fetch_add(ctr, _C_SCORE, 1)
        if b >= B:
            break
        vb[b], va[b] = _pool_violation(sat_of, n, p, N, P, b, True)
        _service_item(sat_of, n, p, g, scale, a, K, b, z, served, Dall, no_sat)
    if tid != 0:
        return
    while _fetch_add(ctr, _C_SCORE, 0) < B + team:  # each thread overshoots the counter once
        _sched_yield()
    for rnd in range(3):
        if rnd > 0:
            _round_serial(
                x, a, g, N, P, scale, K, eps, w, rnd, todo, gtol, mu_factor, max_iter, nsh,
                psh, n, p, lam, mu, status, iters, ubs, z, served, Dall, no_sat, vb, va, sat_of,
            )  # fmt: skip
        if not _check_round(rnd, todo, gtol, served, Dall, w, eps, fixed, ubs, target_gap):
            break


@njit(**_JIT)
def solve_kernel(
    x, a, g, N, P, scale, K, eps, w, force_ipm, nested, tol, mu_factor, max_iter, target_gap
):
    """The whole fast solver on a canonical batch: closed form, interior point, scoring.

    Parameters are the canonical arrays of :class:`oracles.p1._validate.P1Data`: ``x`` (B, S,
    C) bool, ``a`` (B, C, M) [bit], ``g`` (B, S, C, Mg) linear gains, ``N, P`` (B, S) pools,
    ``scale = 1 / (W_PRB N0)``, ``K = T_f W_PRB / ln 2``, ``w`` (B, C); ``force_ipm`` skips
    the closed form (testing), ``nested`` enables the two-block path (:func:`prefix_suffix`);
    the interior point's ``tol``, ``mu_factor`` and ``max_iter``; the certified relative gap
    ``target_gap`` to reach.

    Tolerances are relative to each batch item's total utility: with ``U_b`` the utility of
    item ``b`` estimated before the interior point runs (closed-form satellites exactly, the
    others by their uniform-price bound, or their start's utility with fading) and ``q_b`` its
    number of interior-point satellites plus those settled by the split path (so that the
    split path never loosens the interior point's tolerance), each of them stops at a
    surrogate gap ``tol |U_b| / q_b``.  Items whose certified gap still exceeds
    ``target_gap`` are solved again with tolerances 100 times smaller (twice at most).

    Returns ``n, p`` (B, S, C, M) [PRB], [W]; pool prices ``lam, mu`` (B, S, M) in utility
    per PRB and per watt; ``status, iters`` (B, S); per-satellite bounds ``ubs`` (B, S);
    ``bound, utility`` (B,); and the scoring of :func:`evaluate_kernel` (pools projected):
    ``z, served, D, no_sat, viol_before, viol_after``.  The stages are :func:`_stages` on
    one thread (:func:`thread_worker` runs them on several, same numbers).
    """
    B, S, C = x.shape
    M = a.shape[2]
    st = new_state(B, S, C, M)
    Dm = st[12]
    for b in range(B):
        Dm[b] = _demand(a, b)
    sat_of = st[22]
    _sat_of(x, sat_of)
    _stages(
        x, a, g, N, P, scale, K, eps, w, force_ipm, nested, tol, mu_factor, max_iter,
        target_gap, *st, 0,
    )  # fmt: skip
    lam, mu, status, iters, ubs = st[2], st[3], st[4], st[5], st[6]
    fixed, z, served, Dall, no_sat, vb, va = st[10], st[13], st[14], st[15], st[16], st[17], st[18]
    n = np.empty((B, S, C, M))
    p = np.empty((B, S, C, M))
    _scatter(sat_of, st[0], st[1], n, p)
    bound, util = _finish(served, Dall, w, eps, fixed, ubs)
    return n, p, lam, mu, status, iters, ubs, bound, util, z, served, Dall, no_sat, vb, va


@njit(**_JIT)
def bound_kernel(x, a, g, N, P, scale, K, eps, w, lam, mu):
    """Dual upper bound (B,) at given pool prices ``lam, mu`` (B, S, M) [utility/PRB, /W]."""
    B, S, C = x.shape
    M = a.shape[2]
    bound = np.zeros(B)
    idx = np.empty(C, dtype=np.int64)
    lamv = np.empty(M)
    muv = np.empty(M)
    for b in range(B):
        served = np.zeros(C, dtype=np.bool_)
        D = _demand(a, b)
        for s in range(S):
            nc, ah, ainc, Gc, wc = _problem_arrays(x, a, g, N, P, scale, K, w, b, s, D, idx)
            if nc == 0:
                continue
            for k in range(nc):
                served[idx[k]] = True
            for m in range(M):
                lamv[m] = max(lam[b, s, m], 0.0) * N[b, s]
                muv[m] = max(mu[b, s, m], 0.0) * P[b, s]
            bound[b] += dual_value(ah, ainc, Gc, wc, eps, lamv, muv)
        for c in range(C):
            if D[c] > 0.0 and not served[c]:
                bound[b] += w[b, c] * math.log(eps)
    return bound


@njit(**_JIT)
def onehot_kernel(assoc, S):
    """Association matrix ``x`` (B, S, C) bool of serving-satellite indices ``assoc`` (B, C)."""
    B, C = assoc.shape
    x = np.zeros((B, S, C), dtype=np.bool_)
    for b in range(B):
        for c in range(C):
            s = assoc[b, c]
            if s >= 0:
                x[b, s, c] = True
    return x


@njit(**_JIT)
def satisfaction_kernel(served, D):
    """``min(1, served / D)``, ``nan`` where ``D = 0`` (as :func:`leo_env.core.utility.satisfaction`)."""
    B, C = D.shape
    xi = np.empty((B, C))
    for b in range(B):
        for c in range(C):
            xi[b, c] = min(1.0, served[b, c] / D[b, c]) if D[b, c] > 0.0 else np.nan
    return xi


@njit(**_JIT)
def all_finite(a, g, N, P, scale, K, eps):
    """Whether the arrays and constants of :func:`allocate_kernel` are all finite."""
    if not (math.isfinite(scale) and math.isfinite(K) and math.isfinite(eps)):
        return False
    for v in a.ravel():
        if not math.isfinite(v):
            return False
    for v in g.ravel():
        if not math.isfinite(v):
            return False
    for v in N.ravel():
        if not math.isfinite(v):
            return False
    for v in P.ravel():
        if not math.isfinite(v):
            return False
    return True


@njit(nogil=True, **_JIT)
def allocate_kernel(
    assoc, a, g, N, P, scale, K, eps, nested, tol, mu_factor, max_iter, target_gap, check
):
    """:func:`solve_kernel` with unit weights for serving-satellite indices ``assoc`` (B, C).

    Returns only the satisfaction (as :func:`satisfaction_kernel`) and the served bits (B, C):
    the environment's inner loop, without boxing the solver's other outputs.  With ``check``
    non-finite inputs raise ``ValueError`` (:func:`all_finite`).
    """
    if check and not all_finite(a, g, N, P, scale, K, eps):
        raise ValueError("allocate: non-finite input (arrivals, gains, pools or constants)")
    st = thread_setup(assoc, a, g, N, P, scale, K, eps, False)
    thread_worker(
        st[0], a, g, N, P, scale, K, eps, st[1], nested, tol, mu_factor, max_iter, target_gap,
        *st[2:], 0,
    )  # fmt: skip
    served = st[16]
    return satisfaction_kernel(served, st[17]), served


@njit(nogil=True, **_JIT)
def thread_setup(assoc, a, g, N, P, scale, K, eps, check):
    """Shared arrays of a threaded :func:`allocate_kernel`: ``(x, w, *new_state(...))``.

    The demands are filled in; see :func:`thread_worker`.  With ``check`` non-finite inputs
    raise ``ValueError``.
    """
    if check and not all_finite(a, g, N, P, scale, K, eps):
        raise ValueError("allocate: non-finite input (arrivals, gains, pools or constants)")
    B, C, M = a.shape
    S = g.shape[1]
    x = onehot_kernel(assoc, S)
    w = np.ones((B, C))
    st = new_state(B, S, C, M)
    Dm = st[12]
    for b in range(B):
        Dm[b] = _demand(a, b)
    sat_of = st[22]
    for b in range(B):
        for c in range(C):
            sat_of[b, c] = assoc[b, c]
    return (x, w) + st


@njit(nogil=True, **_JIT)
def thread_worker(
    x, a, g, N, P, scale, K, eps, w, nested, tol, mu_factor, max_iter, target_gap,
    n, p, lam, mu, status, iters, ubs, usat, nsh, psh, fixed, reach, Dm, z, served, Dall,
    no_sat, vb, va, gtol, todo, jobs, sat_of, ctr, tid,
):  # fmt: skip
    """One thread's share of :func:`allocate_kernel` (:func:`_stages`; releases the GIL).

    Call it with the arrays of :func:`thread_setup` from several Python threads at once,
    ``tid = 0`` from the caller's thread (it does the serial parts and must run); the others
    help while they can.  The result (the served bits ``served`` and demands ``Dall``, as
    :func:`allocate_kernel`'s, bit for bit) is complete when thread 0 returns.  Returns the
    team size (the number of threads that took part) for thread 0, 0 for the others.
    """
    # a runtime False: a literal False would type the stages (and the closed form under them)
    # a second time, next to solve_kernel's bool -- a second compile on a cold cache
    force_ipm = tid < 0  # False (thread numbers are >= 0)
    _stages(
        x, a, g, N, P, scale, K, eps, w, force_ipm, nested, tol, mu_factor, max_iter, target_gap,
        n, p, lam, mu, status, iters, ubs, usat, nsh, psh, fixed, reach, Dm, z, served, Dall,
        no_sat, vb, va, gtol, todo, jobs, sat_of, ctr, tid,
    )  # fmt: skip
    return _fetch_add(ctr, _C_TEAM, 0) if tid == 0 else 0
