"""DV-MOSS and the baselines of the paper's Fig. 7-8, all returning :class:`Solution`.

* :func:`dv_moss` -- Markov approximation with exploration decay (Alg. 1) + JUBPA.
* :func:`eps_markov` -- the same chain with a fixed exploration probability for a fixed number
  of iterations, returning where the chain ends (Zhu and Zheng 2024, as the paper describes it).
* :func:`k_nearest` -- the ``k`` candidates closest to the UE-cluster centre, JUBPA inside.
* :func:`two_nearest` -- ``k = 2``.
* :func:`k_random` -- ``k`` random candidates, JUBPA inside.
* :func:`fixed_ua_fixed_ba`, :func:`fixed_ua_matching_ba` -- the UA/BA ablations: the DV-MOSS
  search with JUBPA's games replaced by the static assignment (nearest-in-gain satellite,
  round-robin subcarriers).

``k`` is clipped to ``[1, min(N_max, F, |S(t)|)]``.
"""

from __future__ import annotations

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from oracles.multiorbit.jubpa import jubpa
from oracles.multiorbit.markov import markov_search
from oracles.multiorbit.solution import Solution

__all__ = [
    "k_cap",
    "dv_moss",
    "eps_markov",
    "k_nearest",
    "two_nearest",
    "k_random",
    "fixed_ua_fixed_ba",
    "fixed_ua_matching_ba",
]


def k_cap(inst: CochannelInstance, k: int) -> int:
    """``k`` clipped to ``[1, min(N_max, F, |S(t)|)]``."""
    return int(np.clip(k, 1, min(inst.n_max, inst.n_sub, inst.n_sats)))


def dv_moss(inst: CochannelInstance, seed: int = 0, **kwargs: object) -> Solution:
    """DV-MOSS: :func:`markov_search` with decay (``kwargs`` go to it)."""
    return markov_search(inst, np.random.default_rng(seed), decay=True, method="dv-moss", **kwargs)  # type: ignore[arg-type]


def eps_markov(
    inst: CochannelInstance, seed: int = 0, eps: float = 0.5, n_iter: int = 40
) -> Solution:
    """epsilon-Markov: fixed exploration probability ``eps`` for ``n_iter`` iterations."""
    return markov_search(
        inst,
        np.random.default_rng(seed),
        decay=False,
        eps0=eps,
        n_iter=n_iter,
        method="eps-markov",
    )


def k_nearest(inst: CochannelInstance, k: int) -> Solution:
    """JUBPA on the ``k`` candidates nearest to the UE-cluster centre."""
    kk = k_cap(inst, k)
    order = np.argsort(inst.centre_range_m, kind="stable")[:kk]
    return jubpa(inst, order, method=f"k-nearest(k={kk})")


def two_nearest(inst: CochannelInstance) -> Solution:
    """JUBPA on the 2 nearest candidates."""
    sol = k_nearest(inst, 2)
    return Solution.build(
        inst,
        sol.selected,
        sol.owner,
        sol.assoc,
        sol.subc,
        sol.power_w,
        method="2-nearest",
        **sol.info,
    )


def k_random(inst: CochannelInstance, k: int, seed: int = 0) -> Solution:
    """JUBPA on ``k`` candidates drawn uniformly without replacement."""
    kk = k_cap(inst, k)
    rng = np.random.default_rng(seed)
    pick = rng.choice(inst.n_sats, size=kk, replace=False)
    return jubpa(inst, pick, method=f"k-random(k={kk})")


def fixed_ua_fixed_ba(inst: CochannelInstance, seed: int = 0, **kwargs: object) -> Solution:
    """Markov search with static UA and BA (ablation)."""
    return markov_search(
        inst,
        np.random.default_rng(seed),
        decay=True,
        method="fixed-ua+fixed-ba",
        inner=lambda i, a: jubpa(i, a, ua="fixed", ba="fixed"),
        **kwargs,  # type: ignore[arg-type]
    )


def fixed_ua_matching_ba(inst: CochannelInstance, seed: int = 0, **kwargs: object) -> Solution:
    """Markov search with static UA and the BA matching game (ablation)."""
    return markov_search(
        inst,
        np.random.default_rng(seed),
        decay=True,
        method="fixed-ua+matching-ba",
        inner=lambda i, a: jubpa(i, a, ua="fixed", ba="matching"),
        **kwargs,  # type: ignore[arg-type]
    )
