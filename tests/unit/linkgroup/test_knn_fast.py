"""The lazy exact k-NN and the numpy critic screen give the same decisions as the reference paths.

Default tests run the lazy walk uncompiled (``backend="python"``: the same code as the numba
kernel, no compile in the default run); the compiled kernel is checked in the slow tests.
"""

import numpy as np
import pytest
import torch

from agents.linkgroup.learner import Learner, LearnerSettings, embed
from agents.linkgroup.networks import Critic, CriticMirror
from agents.linkgroup.wolpertinger import (
    NearestGroups,
    nearest_valid_groups,
    nearest_valid_groups_table,
)
from leo_env.core.linkgroups import enumerate_groups, group_embedding, slot_links
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv


def _protos(rng, J, K):  # noqa: N803
    return {
        "gaussian": rng.normal(0.3, 0.6, (J, K)),
        "saturated": (rng.random((J, K)) < 0.5).astype(float),  # mu at 0 / 1: many exact ties
        "near_half": 0.48 + 0.05 * rng.random((J, K)),
    }


@pytest.mark.parametrize("seed", [0, 1])
def test_lazy_walk_equals_reference_walk_and_brute_force(seed):
    env = LinkGroupSchedEnv(preset="small")
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    J, K = env.cfg.J, env.cfg.K  # noqa: N806
    ref, lazy = NearestGroups(env, "walk"), NearestGroups(env, "python")
    for slot in range(3):
        inst, t = env.instance, env.t
        groups = enumerate_groups(inst.usable)
        valid = np.array([slot_links(inst, g, t)[2].all() for g in groups])
        emb = group_embedding(groups[valid], K)
        for kind, proto in _protos(rng, J, K).items():
            d2_all = ((emb - proto.reshape(-1)) ** 2).sum(axis=1)
            for k in (1, 10, 40):
                g_ref, d_ref = ref(proto, k)
                g, d = lazy(proto, k)
                # identical to the reference walk: same groups, same order (ties included), same distances
                np.testing.assert_array_equal(g, g_ref, err_msg=f"{kind} k={k} slot={slot}")
                np.testing.assert_array_equal(d, d_ref)
                # exact against brute force: every valid group strictly nearer than the k-th is in,
                # nothing farther than the k-th is in, distances are the k smallest
                n = min(k, int(valid.sum()))
                assert len(g) == n
                kth = np.sort(d2_all)[n - 1]
                np.testing.assert_allclose(d, np.sort(d2_all)[:n], rtol=0, atol=1e-9)
                got = {tuple(r) for r in g}
                strictly = {tuple(r) for r in groups[valid][d2_all < kth - 1e-9]}
                assert strictly <= got
                assert all(slot_links(inst, r, t)[2].all() for r in g)
        env.step(env.action_space.sample())


def test_lazy_walk_exhausts_and_validates():
    usable = np.ones((2, 2), dtype=bool)
    ok = np.ones((2, 2, 4), dtype=bool)
    proto = np.array([[1.0, 0.0], [1.0, 0.0]])  # both want receiver 0: duplicates are skipped
    g, d2 = nearest_valid_groups_table(proto, usable, 2, ok, backend="python")
    assert {tuple(r) for r in g.tolist()} == {(0, -1), (-1, 0)} and np.allclose(d2, [1.0, 1.0])
    g, _ = nearest_valid_groups_table(proto, usable, 100, ok, backend="python")
    assert len(g) == 7  # every group of a 2 x 2 complete bipartite graph
    ok[0, 1, 3] = False  # link tx 0 -> rx 1 fails its SINR when both transmit
    g, _ = nearest_valid_groups_table(proto, usable, 100, ok, backend="python")
    assert len(g) == 6 and (1, 0) not in {tuple(r) for r in g.tolist()}
    for kwargs, match in [({"k": 0}, "k must be"), ({"backend": "gpu"}, "backend"),
                          ({"ok": np.ones((2, 2, 3), bool)}, "ok must have shape")]:
        args = {"k": 2, "ok": ok, "backend": "python", **kwargs}
        with pytest.raises(ValueError, match=match):
            nearest_valid_groups_table(proto, usable, args["k"], args["ok"], backend=args["backend"])
    with pytest.raises(ValueError, match="backend"):
        NearestGroups(None, "fast")


@pytest.mark.parametrize("context_dim", [0, 16])
def test_critic_mirror_matches_torch(context_dim):
    torch.manual_seed(0)
    J, K = 4, 7  # noqa: N806
    obs_dim = J * K + 5 * K + 1
    critic = Critic(J, K, context_dim, (8, 16), 32, obs_dim)
    rng = np.random.default_rng(0)
    obs = rng.random(obs_dim).astype(np.float32)
    acts = embed(np.array([[0, 1, -1, 2], [3, -1, -1, -1], [-1, -1, -1, -1]]), K)
    z = rng.normal(size=context_dim).astype(np.float32) if context_dim else None
    with torch.no_grad():
        zt = None if z is None else torch.as_tensor(z)[None].expand(3, -1)
        q = critic(torch.as_tensor(obs)[None].expand(3, -1), torch.as_tensor(acts), zt).numpy()
    np.testing.assert_allclose(CriticMirror(critic).q(obs, acts, z), q, rtol=1e-5, atol=1e-6)


@pytest.fixture
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the evaluation; tiny LSTM calls stall on busy cores otherwise
    yield
    torch.set_num_threads(n)


def test_fast_paths_play_the_same_groups_and_mirror_follows_updates(one_torch_thread):
    """A fresh EMCL learner: (walk k-NN, torch critic) and (lazy k-NN, numpy screen) play alike."""
    env_a, env_b = LinkGroupSchedEnv(preset="small"), LinkGroupSchedEnv(preset="small")
    obs_dim = env_a.observation_space.shape[0]
    a = Learner("emcl", env_a.cfg.J, env_a.cfg.K, obs_dim, LearnerSettings(), seed=3)
    b = Learner("emcl", env_a.cfg.J, env_a.cfg.K, obs_dim, LearnerSettings(), seed=3)
    a.knn_backend, a.fast_choose = "walk", False
    b.knn_backend, b.fast_choose = "python", True
    for w in (0, 1):
        oa, _ = env_a.reset(seed=w)
        ob, _ = env_b.reset(seed=w)
        while True:
            ga, gb = a.act(oa, env_a), b.act(ob, env_b)
            np.testing.assert_array_equal(ga, gb)
            oa2, ra, term, _, _ = env_a.step(env_a.encode(ga))
            ob2, rb, _, _, _ = env_b.step(env_b.encode(gb))
            a.observe(oa, ga, ra, oa2, term)
            b.observe(ob, gb, rb, ob2, term)
            oa, ob = oa2, ob2
            if term:
                break
    assert b.stats["screened"] + b.stats["torch"] > 0
    # the mirror is rebuilt after an optimiser step changes the critic
    m0 = b._critic_mirror()
    for p in b.critic.parameters():
        with torch.no_grad():
            p.add_(0.01)
    m1 = b._critic_mirror()
    assert m1 is not m0
    np.testing.assert_allclose(m1.mlp[-1][1], b.critic.mlp[-1].bias.detach().numpy(), rtol=0, atol=0)
    b.reinit(5)  # AC-DDPG's fresh weights at a change: new critic, same implementation choices
    assert (b.knn_backend, b.fast_choose) == ("python", True)
    assert b._critic_mirror() is not m1


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["small", "k50"])
def test_compiled_lazy_walk_equals_reference_walk(preset):
    env = LinkGroupSchedEnv(preset=preset)
    rng = np.random.default_rng(7)
    J, K = env.cfg.J, env.cfg.K  # noqa: N806
    ref, lazy, py = NearestGroups(env, "walk"), NearestGroups(env, "lazy"), NearestGroups(env, "python")
    for ep in range(3):
        env.reset(seed=ep)
        for _ in range(env.cfg.T):
            for proto in _protos(rng, J, K).values():
                for k in (1, 10):
                    g_ref, d_ref = ref(proto, k)
                    g, d = lazy(proto, k)
                    np.testing.assert_array_equal(g, g_ref)
                    np.testing.assert_array_equal(d, d_ref)
                    if preset == "small":
                        np.testing.assert_array_equal(py(proto, k)[0], g)
            env.step(env.action_space.sample())


@pytest.mark.slow
def test_compiled_walk_honours_the_listing_limit():
    usable = np.ones((2, 3), dtype=bool)
    ok = np.ones((2, 3, 4), dtype=bool)
    proto = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    for k in (1, 3, 12):
        for limit in (1, 16, 1 << 16):
            g_ref, _ = nearest_valid_groups(proto, usable, k, lambda a: True, max_candidates=limit)
            g, _ = nearest_valid_groups_table(proto, usable, k, ok, max_candidates=limit)
            np.testing.assert_array_equal(g, g_ref)
