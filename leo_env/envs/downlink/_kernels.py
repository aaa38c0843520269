"""Compiled (numba) step kernels of :mod:`leo_env.envs.downlink.core`.

They compute exactly what the numpy reference functions ``decide_reference`` /
``observe_reference`` / ``apply_reference`` in :mod:`leo_env.envs.downlink.core` compute (the tests check
this), in one pass over (environment, cell, candidate) without temporaries: at the sizes of
the APEX presets the numpy versions spend most of their time in per-call overhead.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["decide_observe_kernel", "apply_kernel"]


@njit(cache=True)
def decide_observe_kernel(  # pragma: no cover - compiled
    top,
    gain,
    rho,
    need,
    vis_left,
    demand,
    fc_base,
    fc_factor,
    H,
    S_real,  # noqa: N803
    k,
    cur,
    budget,
    last_xi,
    full,
    big,
    demand_scale,
    demand_clip,
    load_clip,
    need_clip,
    cand,
    mask,
    is_cur,
    valid,
    feats,
    budget_o,
    served_o,
    hist_o,
    fc_o,
    time_o,
    mask_o,
):
    B, K, C, n = top.shape  # noqa: N806
    S = gain.shape[3]  # noqa: N806
    L = hist_o.shape[2]  # noqa: N806
    cnt = np.zeros(S)
    dload = np.zeros(S)
    fc = np.zeros(C)
    for b in range(B):
        kk = min(k[b], K - 1)
        for s in range(S):
            cnt[s] = 0.0
            dload[s] = 0.0
        for c in range(C):
            fc[c] = fc_base[b, c, kk] * fc_factor[b, c, kk]
        for c in range(C):
            s = cur[b, c]
            if s >= 0:
                cnt[s] += 1.0
                r = rho[b, kk, c, s]
                if r > 0.0:
                    dload[s] += fc[c] / r
        per_sat = S_real[b] / C
        for c in range(C):
            cc = cur[b, c]
            has = cc >= 0
            cur_vis = has and need[b, kk, c, cc] < big
            bud = budget[b, c]
            in_list = False
            for j in range(n):
                sj = top[b, kk, c, j]
                cand[b, c, j] = sj
                if has and sj == cc:
                    in_list = True
            if cur_vis and not in_list:
                cand[b, c, n - 1] = cc
            any_ok = False
            for j in range(n):
                sj = cand[b, c, j]
                v = sj >= 0
                ic = v and sj == cc
                if not v:
                    m = False
                elif full:
                    cost = need[b, kk, c, sj] + (1 if has else 0)
                    m = ic or cost <= bud
                else:
                    m = ic or (not cur_vis) or bud > 0
                valid[b, c, j] = v
                is_cur[b, c, j] = ic
                mask[b, c, j] = m
                any_ok = any_ok or m
            if full and not any_ok:
                best = -1
                bestg = -np.inf
                for s in range(S):
                    ns = need[b, kk, c, s]
                    if ns < big and ns + (1 if has else 0) <= bud and gain[b, kk, c, s] > bestg:
                        bestg = gain[b, kk, c, s]
                        best = s
                if best >= 0:
                    cand[b, c, n - 1] = best
                    valid[b, c, n - 1] = True
                    is_cur[b, c, n - 1] = best == cc
                    mask[b, c, n - 1] = True
                    any_ok = True
            if not any_ok:
                for j in range(n):
                    mask[b, c, j] = valid[b, c, j]
            hn = max(H[b, c], 1)
            for j in range(n):
                sj = cand[b, c, j]
                if sj >= 0:
                    feats[b, c, j, 0] = gain[b, kk, c, sj]
                    feats[b, c, j, 1] = vis_left[b, kk, c, sj] / K
                    feats[b, c, j, 2] = min(cnt[sj] * per_sat, load_clip)
                    feats[b, c, j, 3] = min(dload[sj], load_clip)
                    feats[b, c, j, 4] = 1.0 if is_cur[b, c, j] else 0.0
                    feats[b, c, j, 5] = 1.0
                    feats[b, c, j, 6] = min(need[b, kk, c, sj] / hn, need_clip)
                else:
                    for f in range(feats.shape[3]):
                        feats[b, c, j, f] = 0.0
                mask_o[b, c * n + j] = 1.0 if mask[b, c, j] else 0.0
            budget_o[b, c] = min(max(bud / hn, 0.0), 1.0)
            x = last_xi[b, c]
            served_o[b, c] = 1.0 if np.isnan(x) else x
            for i in range(L):
                lag = k[b] - L + i
                if lag >= 0 and lag < K:
                    hist_o[b, c, i] = min(max(demand[b, c, lag] / demand_scale, 0.0), demand_clip)
                else:
                    hist_o[b, c, i] = 0.0
            fc_o[b, c] = min(max(fc[c] / demand_scale, 0.0), demand_clip)
        time_o[b, 0] = k[b] / K


@njit(cache=True)
def apply_kernel(  # pragma: no cover - compiled
    rows,
    act,
    cand,
    mask,
    is_cur,
    cur,
    budget,
    ho_total,
    em_cell,
    H,
    repairs_total,  # noqa: N803
    emergencies_total,
    k,
    demand,
    sat,
    h,
    emerg,
    repaired,
    ho_out,
    budget_out,
    demand_out,
    counts,
):
    """Repair the actions of ``rows``, account handovers and update the counters in place.

    Row ``i`` (environment ``rows[i]``) receives its serving satellites ``sat``, handover
    flags ``h`` (0/1), emergency and repair flags, its handovers so far ``ho_out`` and budgets
    left ``budget_out`` (after this slot), the realised demand of its slot ``demand_out``
    (``demand[b, :, k[b]]``) and ``counts[i]`` = (handovers, emergencies, repairs, budget
    violations, repairs so far, emergencies so far).
    """
    R, C = act.shape  # noqa: N806
    n = cand.shape[2]
    for i in range(R):
        b = rows[i]
        kb = min(k[b], demand.shape[2] - 1)
        n_ho = 0
        n_em = 0
        n_rep = 0
        over = 0
        for c in range(C):
            a = act[i, c]
            ok = a >= 0 and a < n and mask[b, c, a]
            if not ok:
                a = -1
                for j in range(n):
                    if is_cur[b, c, j] and mask[b, c, j]:
                        a = j
                        break
                if a < 0:
                    for j in range(n):
                        if mask[b, c, j]:
                            a = j
                            break
                if a < 0:
                    a = 0
            s = cand[b, c, a]
            cc = cur[b, c]
            ho = cc >= 0 and s != cc
            em = ho and budget[b, c] <= 0
            if ho and not em:
                budget[b, c] -= 1
            if ho:
                ho_total[b, c] += 1
                n_ho += 1
            if em:
                em_cell[b, c] += 1
                n_em += 1
            if not ok:
                n_rep += 1
            over += max(0, ho_total[b, c] - em_cell[b, c] - H[b, c])
            sat[i, c] = s
            h[i, c] = 1 if ho else 0
            emerg[i, c] = em
            repaired[i, c] = not ok
            ho_out[i, c] = ho_total[b, c]
            budget_out[i, c] = budget[b, c]
            demand_out[i, c] = demand[b, c, kb]
        repairs_total[b] += n_rep
        emergencies_total[b] += n_em
        counts[i, 0] = n_ho
        counts[i, 1] = n_em
        counts[i, 2] = n_rep
        counts[i, 3] = over
        counts[i, 4] = repairs_total[b]
        counts[i, 5] = emergencies_total[b]
