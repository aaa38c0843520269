import numpy as np
import pytest
from scipy.optimize import minimize

from leo_env.core.cochannel import cochannel_sinr
from leo_env.scenario.multiorbit import synthetic_instance
from oracles.multiorbit.objective import evaluate
from oracles.multiorbit.power import (
    allocate_exact,
    allocate_gp,
    allocate_gp_cvxpy,
    sca_exact_cvxpy,
)


def _config(rng, n_sats=2, n_ues=7, n_sub=4, r_min=0.1e6):
    inst = synthetic_instance(rng, n_sats, n_ues, n_sub, r_min_bps=r_min)
    # subcarriers split between satellites; UEs spread over the subcarriers of a visible sat
    owner = np.arange(n_sub) % n_sats
    assoc = np.empty(n_ues, dtype=int)
    subc = np.empty(n_ues, dtype=int)
    for u in range(n_ues):
        s = int(np.flatnonzero(inst.visible[:, u])[0])
        fs = np.flatnonzero(owner == s)
        assoc[u], subc[u] = s, fs[u % fs.size]
    return inst, assoc, subc


def _slsqp_pa(inst, assoc, subc, starts=6, seed=0):
    """Independent reference: exact-rate PA with SciPy SLSQP from several feasible starts."""
    served = np.flatnonzero(assoc >= 0)
    g = inst.gain[assoc[served], served, subc[served]]
    f = subc[served]
    s = assoc[served]
    gam = inst.gamma_min[served]
    nw, b = inst.noise_w, inst.bandwidth_hz
    same = (f[:, None] == f[None, :]) & ~np.eye(served.size, dtype=bool)

    def neg(p):
        sinr = p * g / (nw + g * (same @ p))
        return -np.sum(np.log2(1 + sinr)) * b / 1e6

    cons = [{"type": "ineq", "fun": lambda p: p * g - gam * (nw + g * (same @ p))}]
    for q in np.unique(s):
        m = s == q
        cons.append({"type": "ineq", "fun": lambda p, m=m: inst.p_max_w - p[m].sum()})
    rng = np.random.default_rng(seed)
    best = np.inf
    for k in range(starts):
        p0 = rng.dirichlet(np.ones(served.size)) * inst.p_max_w * (0.5 if k else 0.9)
        res = minimize(
            neg,
            p0,
            method="SLSQP",
            bounds=[(0, inst.p_max_w)] * served.size,
            constraints=cons,
            options={"maxiter": 500, "ftol": 1e-12},
        )
        p = np.maximum(res.x, 0)
        ok = np.all(p * g >= gam * (nw + g * (same @ p)) * (1 - 1e-6))
        ok &= all(p[s == q].sum() <= inst.p_max_w * (1 + 1e-6) for q in np.unique(s))
        if ok:
            best = min(best, neg(p))
    return -best


@pytest.mark.parametrize("seed", range(4))
def test_exact_pa_meets_min_rates_and_budget(seed):
    rng = np.random.default_rng(seed)
    inst, assoc, subc = _config(rng)
    while not (res := allocate_exact(inst, assoc, subc)).feasible:
        inst, assoc, subc = _config(rng)
    ev = evaluate(inst, assoc, subc, res.power_w)
    assert ev.n_unmet == 0
    load = np.bincount(assoc, weights=res.power_w)
    np.testing.assert_allclose(load, inst.p_max_w, rtol=1e-9)  # rate increases with power
    # structure: on every subcarrier all UEs but one sit exactly at R_min
    for f in np.unique(subc):
        m = subc == f
        at_min = np.isclose(ev.rates_bps[m], inst.r_min_bps[m], rtol=1e-7)
        assert at_min.sum() >= m.sum() - 1


@pytest.mark.parametrize("seed", range(4))
def test_exact_pa_equals_winner_enumeration_and_slsqp(seed):
    rng = np.random.default_rng(10 + seed)
    inst, assoc, subc = _config(rng, n_ues=6)
    while not allocate_exact(inst, assoc, subc).feasible:
        assert _slsqp_pa(inst, assoc, subc, starts=2) == -np.inf  # SLSQP agrees: infeasible
        inst, assoc, subc = _config(rng, n_ues=6)
    fast = evaluate(inst, assoc, subc, allocate_exact(inst, assoc, subc).power_w).sum_rate_bps
    enum = allocate_exact(inst, assoc, subc, enumerate_winners=True)
    exact = evaluate(inst, assoc, subc, enum.power_w).sum_rate_bps / 1e6
    assert fast / 1e6 <= exact + 1e-9
    assert fast / 1e6 == pytest.approx(exact, rel=1e-9)
    ref = _slsqp_pa(inst, assoc, subc)
    assert exact >= ref - 1e-6 * abs(ref)
    assert exact == pytest.approx(ref, rel=1e-4)


def test_infeasible_configuration_is_reported():
    inst, assoc, subc = _config(np.random.default_rng(0), n_ues=8, n_sub=2, r_min=0.6e6)
    # Gamma = 2^0.6 - 1 = 0.52, a = 0.34: four UEs on one subcarrier fail the positivity test
    res = allocate_exact(inst, assoc, subc)
    assert not res.feasible


@pytest.mark.slow
def test_gp_reference_and_sca_check():
    rng = np.random.default_rng(5)
    inst, assoc, subc = _config(rng, n_ues=6)
    while not (exact := allocate_exact(inst, assoc, subc)).feasible:
        inst, assoc, subc = _config(rng, n_ues=6)
    gp = allocate_gp_cvxpy(inst, assoc, subc)
    assert gp.feasible
    v_exact = evaluate(inst, assoc, subc, exact.power_w).sum_rate_bps
    v_gp = evaluate(inst, assoc, subc, gp.power_w).sum_rate_bps
    # GP solution meets the minimum rates and its budget
    served = assoc >= 0
    sinr = cochannel_sinr(
        inst.gain[assoc, np.arange(6), subc], gp.power_w, subc, inst.noise_w, inst.n_sub
    )
    assert np.all(sinr[served] >= inst.gamma_min[served] * (1 - 1e-5))
    assert np.all(np.bincount(assoc, weights=gp.power_w) <= inst.p_max_w * (1 + 1e-6))
    # the high-SINR approximation is a lower bound in exact rate
    assert v_gp <= v_exact * (1 + 1e-7)
    # SCA on the exact rate from the GP point is monotone and reaches the exact optimum;
    # from the exact optimum it cannot improve.
    _, hist = sca_exact_cvxpy(inst, assoc, subc, gp.power_w, iters=30, solver="barrier")
    assert all(b >= a * (1 - 1e-7) for a, b in zip(hist, hist[1:], strict=False))
    assert hist[-1] == pytest.approx(v_exact, rel=1e-4)
    _, hist2 = sca_exact_cvxpy(inst, assoc, subc, exact.power_w, iters=3)
    assert max(hist2) <= v_exact * (1 + 1e-6)


def _log_sinr_sum(inst, assoc, subc, p):
    served = assoc >= 0
    g = inst.gain[assoc[served], np.flatnonzero(served), subc[served]]
    return float(
        np.sum(np.log(cochannel_sinr(g, p[served], subc[served], inst.noise_w, inst.n_sub)))
    )


@pytest.mark.parametrize("seed", range(3))
def test_gp_power_allocation_equals_cvxpy_reference(seed):
    rng = np.random.default_rng(20 + seed)
    inst, assoc, subc = _config(rng, n_ues=7, n_sub=4)
    while not allocate_exact(inst, assoc, subc).feasible:
        inst, assoc, subc = _config(rng, n_ues=7, n_sub=4)
    ours = allocate_gp(inst, assoc, subc)
    ref = allocate_gp_cvxpy(inst, assoc, subc)
    assert ours.feasible and ref.feasible
    v_ours = _log_sinr_sum(inst, assoc, subc, ours.power_w)
    v_ref = _log_sinr_sum(inst, assoc, subc, ref.power_w)
    assert v_ours == pytest.approx(v_ref, abs=1e-6)
    np.testing.assert_allclose(ours.power_w, ref.power_w, atol=1e-4 * inst.p_max_w)
    # our solution is feasible for the GP
    sinr = cochannel_sinr(
        inst.gain[assoc, np.arange(7), subc], ours.power_w, subc, inst.noise_w, inst.n_sub
    )
    assert np.all(sinr >= inst.gamma_min * (1 - 1e-9))
    assert np.all(np.bincount(assoc, weights=ours.power_w) <= inst.p_max_w * (1 + 1e-9))
