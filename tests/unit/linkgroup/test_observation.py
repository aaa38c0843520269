"""The ``observation="rates"`` option of LinkGroupSched-v0 and the learners' networks on it."""

import warnings

import numpy as np
import pytest
import torch

from agents.linkgroup.networks import image_channels, receiver_image
from leo_env.core.linkgroups import slot_links
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.envs.linkgroup.vector import LinkGroupSchedVectorEnv


def _lg(bits):
    """Reference log scale, written out: log10(1 + bits / 1 kbit) / 6, capped at 1."""
    return min(np.log10(1.0 + bits / 1000.0) / 6.0, 1.0)


def _random_play(env, seed, steps):
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(steps):
        obs, _, term, _, _ = env.step(rng.integers(0, env.action_space.nvec))
        out.append(obs)
        if term:
            obs, _ = env.reset()
            out.append(obs)
    return out


def test_rates_block_equals_a_direct_loop_and_the_prefix_is_the_paper_observation():
    env = LinkGroupSchedEnv(preset="small", observation="rates")
    ref = LinkGroupSchedEnv(preset="small")
    J, K = env.cfg.J, env.cfg.K  # noqa: N806
    base = J * K + 5 * K + 1
    assert env.observation_space.shape == (base + J * K + 3 * K,)
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=4)
    obs_ref, _ = ref.reset(seed=4)
    n_nonzero = 0
    for _ in range(2 * env.cfg.T):
        np.testing.assert_array_equal(obs[:base], obs_ref)
        inst, t = env.instance, min(env.t, env.cfg.T - 1)
        rates = obs[base:base + J * K].reshape(J, K)
        for j in range(J):
            for k in range(K):
                a = -np.ones(J, dtype=np.int64)
                a[j] = k
                want = 0.0
                if inst.compat[j, k] and inst.active[k]:
                    _, bits, ok = slot_links(inst, a, t)
                    want = _lg(bits[j]) if ok[j] else 0.0
                assert rates[j, k] == pytest.approx(want, abs=1e-6)
                n_nonzero += want > 0
        dem = obs[base + J * K:].reshape(3, K)
        for k in range(K):
            d, got, dmin = inst.demand_bits[k], env.delivered[k], inst.min_bits[k]
            on = bool(inst.active[k])
            assert dem[0, k] == pytest.approx(_lg(d) if on else 0.0, abs=1e-6)
            assert dem[1, k] == pytest.approx(_lg(d - min(got, d)) if on else 0.0, abs=1e-6)
            assert dem[2, k] == pytest.approx(_lg(max(dmin - got, 0.0)) if on else 0.0, abs=1e-6)
        assert env.observation_space.contains(obs)
        a = rng.integers(0, env.action_space.nvec)
        obs, _, term, _, _ = env.step(a)
        obs_ref, _, _, _, _ = ref.step(a)
        if term:
            obs, _ = env.reset()
            obs_ref, _ = ref.reset()
    assert n_nonzero > 0


def test_rates_env_checkers_determinism_and_vector():
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(LinkGroupSchedEnv(preset="tiny", observation="rates"), skip_render_check=True)
    a = _random_play(LinkGroupSchedEnv(preset="tiny", observation="rates"), 5, 8)
    b = _random_play(LinkGroupSchedEnv(preset="tiny", observation="rates"), 5, 8)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    vec = LinkGroupSchedVectorEnv(2, preset="tiny", observation="rates")
    obs, _ = vec.reset(seed=7)
    s1, _ = LinkGroupSchedEnv(preset="tiny", observation="rates").reset(seed=8)
    np.testing.assert_array_equal(obs[1], s1)


def test_receiver_image_layouts():
    J, K = 3, 4  # noqa: N806
    base = J * K + 5 * K + 1
    assert image_channels(base, J, K) == J + 6
    assert image_channels(base + J * K + 3 * K, J, K) == 2 * J + 9
    with pytest.raises(ValueError, match="obs_dim"):
        image_channels(base + 1, J, K)
    obs = torch.arange(base + J * K + 3 * K, dtype=torch.float32)[None]
    img = receiver_image(obs, J, K)
    assert img.shape == (1, 2 * J + 9, K)
    torch.testing.assert_close(img[0, : J + 6], receiver_image(obs[:, :base], J, K)[0])
    # receiver k's rate of transmitter j and its three demand amounts
    assert img[0, J + 6 + 1, 2] == obs[0, base + 1 * K + 2]
    assert img[0, 2 * J + 6 + 2, 3] == obs[0, base + J * K + 2 * K + 3]


def test_greedy_links_reads_mu_like_the_categorical_loss():
    from benchmarks.linkgroup_student import greedy_links

    mu = np.array([[[0.2, 0.7, 0.6], [0.4, 0.1, 0.49]]])
    np.testing.assert_array_equal(greedy_links(mu), [[1, -1]])


def test_fig8_admm_updates_limits_admm_to_the_first_cycles(tmp_path):
    from agents.linkgroup.evaluation import fig8_run
    from tests.unit.linkgroup.test_learners import _cfg

    cfg = _cfg(tmp_path, **{"evaluate.fig8_updates": 3, "evaluate.fig8_windows": 2, "evaluate.fig8_every": 1,
                            "evaluate.fig8_admm_updates": 1})
    admm = fig8_run(cfg.to_dict(), ("admm", None), 0, False)
    opt = fig8_run(cfg.to_dict(), ("opt", None), 0, False)
    assert admm["update"] == [0, 0] and opt["update"] == [0, 0, 1, 1, 2, 2]
    assert np.all(np.asarray(admm["F"]) >= np.asarray(opt["F"][:2]) - 1e-6)


@pytest.mark.slow
def test_learner_on_rates_observation_trains_deterministically_and_acts_validly(tmp_path):
    from agents.linkgroup.training import load_learner, make_env, train
    from tests.unit.linkgroup.test_learners import _cfg

    runs = []
    for sub in ("a", "b"):
        cfg = _cfg(tmp_path / sub, **{"env.observation": "rates"})
        train(cfg, progress=False)
        runs.append(load_learner(cfg))
    for p, q in zip(runs[0].actor.parameters(), runs[1].actor.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    # the Fig. 8 protocol of a paper-observation config plays this learner on its own observation
    from agents.linkgroup.evaluation import fig8_run

    main = _cfg(tmp_path / "a", **{"evaluate.fig8_updates": 2, "evaluate.fig8_windows": 2, "evaluate.fig8_every": 1})
    assert main.env.observation == "paper"
    res = fig8_run(main.to_dict(), ("t_emcl", cfg.to_dict()), 0, False)
    opt = fig8_run(main.to_dict(), ("opt", None), 0, False)
    assert res["update"] == opt["update"] == [0, 0, 1, 1]
    assert np.all(np.asarray(res["F"]) >= np.asarray(opt["F"]) - 1e-6)
    lr = runs[0]
    env = make_env(cfg)
    assert lr.obs_dim == env.observation_space.shape[0] > env.cfg.J * env.cfg.K + 5 * env.cfg.K + 1
    obs, _ = env.reset(seed=2)
    for _ in range(env.cfg.T):
        a = lr.act(obs, env)
        assert slot_links(env.instance, a, env.t)[2][a >= 0].all()
        obs, _, _, _, info = env.step(env.encode(a))
        assert info["step_repairs"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("obs_form", ["paper", "rates"])
def test_learner_policy_equals_play_window_over_consecutive_windows(tmp_path, obs_form):
    """The Policy wrapper reproduces play_window (greedy, frozen) incl. the context across windows."""
    from agents.linkgroup.policy import LearnerPolicy
    from agents.linkgroup.training import load_learner, make_env, play_window, train
    from leo_env.policies import play
    from tests.unit.linkgroup.test_learners import _cfg

    cfg = _cfg(tmp_path, **{"env.observation": obs_form})
    train(cfg, progress=False)
    ref_l = load_learner(cfg)
    ref_l.online = True
    env_a, env_b = make_env(cfg), make_env(cfg)
    pol = LearnerPolicy(cfg)
    np.testing.assert_allclose(pol.learner.context_array(), ref_l.context_array(), atol=1e-6)
    for w in range(3):
        f_ref = play_window(ref_l, env_a, 40 + w, False)
        ep = play(pol, env_b, seed=40 + w)
        assert ep.infos[-1]["objective"] == pytest.approx(f_ref, rel=1e-9, abs=1e-9)
        assert ep.infos[-1]["repairs"] == 0
    # the last window's terminal transition enters the context at the next window's first act
    env_b.reset(seed=99)
    pol.reset(env_b)
    pol.act(env_b.unwrapped._obs(), env_b)
    env_a.reset(seed=99)
    ref_l.act(env_a.unwrapped._obs(), env_a, False)
    np.testing.assert_allclose(pol.learner.context_array(), ref_l.context_array(), atol=1e-6)
