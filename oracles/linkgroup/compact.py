"""Compact (per-link) formulation shared by OPT, the QP bound and ADMM-HEU.

Per band ``b`` and slot ``t`` exactly one activity pattern ``P`` (a subset of the band's
transmitters, the empty set included) is chosen (``u[b, P, t]``); every transmitter of the chosen
pattern serves exactly one receiver with a link that is valid under that pattern
(``x[j, k, P, t]``, from :func:`leo_env.core.linkgroups.link_view`), and every receiver gets at
most one link per slot.  Interference only couples transmitters of the same band, so a link group
is exactly one pattern per band plus such a matching: this model has the same feasible schedules
as the link-group model ``x_{l,t}`` of the paper, without enumerating groups.

Bits are carried in ``unit_bits`` (Mbit) for numerical scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from leo_env.core.linkgroups import LinkGroupInstance, LinkView, link_view

__all__ = ["CompactModel", "build_compact", "decode_links"]


@dataclass(frozen=True, eq=False)
class CompactModel:
    """Index arrays and sparse blocks of the compact model.

    Attributes
    ----------
    xj, xk, xp, xt : ndarray of int, shape (n_x,)
        Transmitter, receiver, pattern mask and slot of every link variable.
    xbits : ndarray, shape (n_x,)
        Bits of every link variable [unit_bits].
    ub, up, ut : ndarray of int, shape (n_u,)
        Band, pattern mask and slot of every pattern variable.
    A_pat : sparse (n_bt, n_u)
        One pattern per band and slot (rows = 1).
    A_link_x, A_link_u : sparse (n_jpt, n_x), (n_jpt, n_u)
        ``sum_k x[j, k, P, t] - u[b, P, t] = 0`` for ``j in P``.
    A_uni : sparse (n_kt, n_x)
        At most one link per receiver and slot (rows <= 1).
    M : sparse (n_act, n_x)
        Delivered bits of every active receiver [unit_bits].
    M_cap : sparse (n_act, n_x)
        ``M`` with every coefficient capped at the receiver's demand ``D_k`` (valid because
        ``z_k <= D_k``; a tighter relaxation).
    S_cut : sparse (n_act, n_x)
        Coefficients ``min(1, bits / D_min_k)`` of the served cut
        ``y_k <= sum S_cut[k] x`` (valid for binary ``x``: a served receiver either uses one
        link carrying at least ``D_min_k`` or several whose bits add up to it); 1 where
        ``D_min_k = 0``.
    act : ndarray of int
        Indices of the active receivers (rows of ``M``).
    unit_bits : float
        Bit unit.
    """

    xj: np.ndarray
    xk: np.ndarray
    xp: np.ndarray
    xt: np.ndarray
    xbits: np.ndarray
    ub: np.ndarray
    up: np.ndarray
    ut: np.ndarray
    A_pat: sp.csr_matrix
    A_link_x: sp.csr_matrix
    A_link_u: sp.csr_matrix
    A_uni: sp.csr_matrix
    M: sp.csr_matrix
    M_cap: sp.csr_matrix
    S_cut: sp.csr_matrix
    act: np.ndarray
    unit_bits: float

    @property
    def n_x(self) -> int:
        """Number of link variables."""
        return int(self.xj.size)

    @property
    def n_u(self) -> int:
        """Number of pattern variables."""
        return int(self.ub.size)


def _band_patterns(tx_band: np.ndarray) -> list[tuple[int, list[int]]]:
    out = []
    for b in np.unique(tx_band):
        members = np.flatnonzero(tx_band == b)
        masks = []
        for s in range(1 << members.size):
            masks.append(int(sum(1 << int(members[i]) for i in range(members.size) if (s >> i) & 1)))
        out.append((int(b), masks))
    return out


def build_compact(
    inst: LinkGroupInstance, view: LinkView | None = None, unit_bits: float = 1e6
) -> CompactModel:
    """Build the compact model of ``inst`` (``view`` is computed when omitted)."""
    v = link_view(inst) if view is None else view
    J, K, T = inst.J, inst.K, inst.T  # noqa: N806
    bands = _band_patterns(inst.tx_band)
    # pattern variables
    ub, up, ut = [], [], []
    for b, masks in bands:
        for t in range(T):
            for m in masks:
                ub.append(b)
                up.append(m)
                ut.append(t)
    ub_a, up_a, ut_a = (np.asarray(a, dtype=np.int64) for a in (ub, up, ut))
    n_u = ub_a.size
    band_pos = {b: i for i, (b, _) in enumerate(bands)}
    # link variables: ok entries whose pattern is a subset of the transmitter's band
    band_mask = np.zeros(J, dtype=np.int64)
    for _b, masks in bands:
        full = max(masks)
        for j in range(J):
            if (full >> j) & 1:
                band_mask[j] = full
    pats = np.arange(1 << J)
    in_band = (pats[None, :] & ~band_mask[:, None]) == 0  # (J, P)
    ok = v.ok & in_band[:, None, :, None]
    xj, xk, xp, xt = np.nonzero(ok)
    xbits = v.bits[xj, xk, xp, xt] / unit_bits
    n_x = xj.size
    # one pattern per band and slot
    rows_pat = np.array([band_pos[int(b)] * T + int(t) for b, t in zip(ub_a, ut_a, strict=True)])
    A_pat = sp.csr_matrix((np.ones(n_u), (rows_pat, np.arange(n_u))), shape=(len(bands) * T, n_u))  # noqa: N806
    # link rows: (j, P, t) for j in P, P non-empty in band(j)
    link_rows = {}
    lr_u_rows, lr_u_cols = [], []
    for i in range(n_u):
        b, m, t = int(ub_a[i]), int(up_a[i]), int(ut_a[i])
        for j in range(J):
            if (m >> j) & 1:
                r = len(link_rows)
                link_rows[(j, m, t)] = r
                lr_u_rows.append(r)
                lr_u_cols.append(i)
    n_lr = len(link_rows)
    x_rows = np.array([link_rows[(int(a), int(b), int(c))] for a, b, c in zip(xj, xp, xt, strict=True)],
                      dtype=np.int64)
    A_link_x = sp.csr_matrix((np.ones(n_x), (x_rows, np.arange(n_x))), shape=(n_lr, n_x))  # noqa: N806
    A_link_u = sp.csr_matrix(  # noqa: N806
        (-np.ones(len(lr_u_rows)), (np.asarray(lr_u_rows), np.asarray(lr_u_cols))), shape=(n_lr, n_u)
    )
    A_uni = sp.csr_matrix((np.ones(n_x), (xk * T + xt, np.arange(n_x))), shape=(K * T, n_x))  # noqa: N806
    act = np.flatnonzero(inst.active)
    pos = -np.ones(K, dtype=np.int64)
    pos[act] = np.arange(act.size)
    shape = (act.size, n_x)
    M = sp.csr_matrix((xbits, (pos[xk], np.arange(n_x))), shape=shape)  # noqa: N806
    dem = inst.demand_bits[xk] / unit_bits
    M_cap = sp.csr_matrix((np.minimum(xbits, dem), (pos[xk], np.arange(n_x))), shape=shape)  # noqa: N806
    dmin = inst.min_bits[xk] / unit_bits
    cut = np.where(dmin > 0, np.minimum(1.0, xbits / np.where(dmin > 0, dmin, 1.0)), 1.0)
    S_cut = sp.csr_matrix((cut, (pos[xk], np.arange(n_x))), shape=shape)  # noqa: N806
    return CompactModel(xj, xk, xp, xt, xbits, ub_a, up_a, ut_a, A_pat, A_link_x, A_link_u,
                        A_uni, M, M_cap, S_cut, act, float(unit_bits))


def decode_links(model: CompactModel, x: np.ndarray, T: int, J: int, thr: float = 0.5) -> np.ndarray:  # noqa: N803
    """Schedule (T, J) from an integral link vector ``x`` (entries > ``thr`` are on)."""
    links = -np.ones((T, J), dtype=np.int64)
    on = np.flatnonzero(np.asarray(x) > thr)
    links[model.xt[on], model.xj[on]] = model.xk[on]
    return links
