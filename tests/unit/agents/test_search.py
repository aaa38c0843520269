import numpy as np
import pytest

from agents.search import local_search, slot_objective
from oracles.p2.proxy import waterfill


def _instance(rng, C=7, n=3, S=4):  # noqa: N803
    cand = np.stack([rng.permutation(S)[:n] for _ in range(C)])
    mask = rng.random((C, n)) < 0.8
    mask[np.arange(C), rng.integers(0, n, C)] = True
    rho = rng.uniform(0.5, 2.0, (C, S)) * 1e6
    demand = rng.uniform(0.0, 1.5, C) * 1e6
    demand[rng.random(C) < 0.15] = 0.0  # some cells without demand
    cur = np.where(rng.random(C) < 0.7, rng.integers(0, S, C), -1)
    logits = rng.normal(size=(C, n))
    return logits, mask, cand, cur, demand, rho


def _J(choice, cand, cur, demand, rho, eps=1e-3, lam=0.05):  # noqa: N802
    return slot_objective(cand[np.arange(len(choice)), choice], cur, demand, rho, eps, lam)


def test_objective_is_the_waterfilling_utility_minus_handovers():
    rho = np.array([[2.0, 1.0], [1.0, 1.0], [1.0, 4.0]]) * 1e6
    demand = np.array([1.0, 1.5, 0.0]) * 1e6
    sats, cur = np.array([0, 0, 1]), np.array([1, 0, -1])
    xi, _, _ = waterfill(np.array([0.5, 1.5]), 1e-3)  # cells 0 and 1 share satellite 0
    want = np.log(1e-3 + xi).sum() - 0.1 * 1  # cell 0 hands over; cell 2 has no demand
    assert slot_objective(sats, cur, demand, rho, 1e-3, 0.1) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_search_is_allowed_never_worse_and_one_opt(seed):
    rng = np.random.default_rng(seed)
    logits, mask, cand, cur, demand, rho = _instance(rng)
    delta = [0.5, 1.0, 3.0, np.inf][seed % 4]
    start = np.where(mask, logits, -np.inf).argmax(1)
    a = local_search(logits, mask, cand, cur, demand, rho, 1e-3, 0.05, delta=delta, passes=100)
    assert mask[np.arange(len(a)), a].all()
    best = _J(a, cand, cur, demand, rho)
    assert best >= _J(start, cand, cur, demand, rho) - 1e-12
    top = np.where(mask, logits, -np.inf).max(1)
    for c in range(len(a)):  # no single move inside the logit window improves J
        for j in np.nonzero(mask[c] & (logits[c] >= top[c] - delta))[0]:
            b = a.copy()
            b[c] = j
            assert _J(b, cand, cur, demand, rho) <= best + 1e-9


def test_zero_window_keeps_the_argmax_and_the_search_fixes_an_overload():
    # two cells, both prefer satellite 0 (logits); it cannot serve both, satellite 1 is as good
    cand = np.array([[0, 1], [0, 1]])
    mask = np.ones((2, 2), dtype=bool)
    logits = np.array([[1.0, 0.5], [1.0, 0.2]])
    rho = np.full((2, 2), 1e6)
    demand = np.array([0.9e6, 0.9e6])
    cur = np.array([-1, -1])
    np.testing.assert_array_equal(local_search(logits, mask, cand, cur, demand, rho, 1e-3, 0.05, delta=0.0), [0, 0])
    a = local_search(logits, mask, cand, cur, demand, rho, 1e-3, 0.05, delta=1.0)
    assert sorted(cand[[0, 1], a]) == [0, 1]
    # a handover price above the gain keeps both cells on their current satellite
    stay = local_search(logits, mask, cand, np.array([0, 0]), demand, rho, 1e-3, 5.0, delta=1.0)
    np.testing.assert_array_equal(stay, [0, 0])


def test_bad_arguments_are_errors():
    rng = np.random.default_rng(0)
    logits, mask, cand, cur, demand, rho = _instance(rng)
    with pytest.raises(ValueError, match="passes"):
        local_search(logits, mask, cand, cur, demand, rho, 1e-3, 0.05, passes=0)
    with pytest.raises(ValueError, match="delta"):
        local_search(logits, mask, cand, cur, demand, rho, 1e-3, 0.05, delta=-1.0)
    mask[0] = False
    with pytest.raises(ValueError, match="allowed"):
        local_search(logits, mask, cand, cur, demand, rho, 1e-3, 0.05)


def test_agent_policy_with_search_plays_allowed_actions(tmp_path):
    from agents.envs import env_kwargs, make_env
    from agents.policies import AgentPolicy
    from agents.registry import build_model
    from agents.vec_env import DownlinkVecEnv
    from leo_env.envs.downlink.policies import run_episode

    from .conftest import tiny_config

    cfg = tiny_config(tmp_path, "agent.algo=maskable_ppo")
    venv = DownlinkVecEnv(2, env_kwargs(cfg.env), satellite_ids=cfg.env.satellite_ids)
    model = build_model(cfg, venv, venv.layout)
    with pytest.raises(ValueError, match="search"):
        AgentPolicy(model, "wolpertinger", search=(1.0, 2))
    pol = AgentPolicy(model, "maskable_ppo", search=(np.inf, 3))
    assert pol.name == "B4+LS"
    env = make_env(cfg.env)
    res = run_episode(pol, env, seed=0)
    assert res.info["budget_violations"] == 0 and res.info["repairs_total"] == 0
    plain = run_episode(AgentPolicy(model, "maskable_ppo"), env, seed=0)
    assert res.assoc.shape == plain.assoc.shape
