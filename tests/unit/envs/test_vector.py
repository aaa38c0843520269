import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

import leo_env
import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.envs import DownlinkEnv, DownlinkVectorEnv

from .conftest import DEFAULT_ALLOCATOR, random_masked_actions


def lockstep(preset, B, steps, seed, allocator, **kw):
    """Step the vector env and B scalar envs with the same actions; compare everything."""
    vec = gym.make_vec(f"leo_env/Downlink-{preset}-v0", num_envs=B, allocator=allocator, **kw)
    assert isinstance(vec, DownlinkVectorEnv)
    envs = [DownlinkEnv(preset, allocator=allocator, **kw) for _ in range(B)]
    ov, iv = vec.reset(seed=seed)
    done = np.zeros(B, dtype=bool)
    for i, env in enumerate(envs):
        o, info = env.reset(seed=seed + i)
        assert iv["scenario_seed"][i] == info["scenario_seed"]
        assert data_equivalence(o, {k: v[i] for k, v in ov.items()})
    rng = np.random.default_rng(seed)
    n_resets = 0
    for _ in range(steps):
        masks = vec.action_masks().reshape(B, envs[0].params.C, -1)
        act = np.stack([random_masked_actions(m, rng) for m in masks])
        act[:, 0] = rng.integers(-1, envs[0].params.n + 1, size=B)  # some invalid entries too
        ov, rv, tv, trv, iv = vec.step(act)
        assert vec.observation_space.contains(ov)
        for i, env in enumerate(envs):
            if done[i]:
                o, _ = env.reset()
                r, term, n_resets = 0.0, False, n_resets + 1
                assert not iv["_xi"][i]
            else:
                o, r, term, _, info = env.step(act[i])
                assert iv["_xi"][i]
                for key, val in info.items():
                    if isinstance(val, str):  # the scenario's name
                        assert val == iv[key][i], key
                    else:
                        assert data_equivalence(np.asarray(val), np.asarray(iv[key][i])), key
            assert data_equivalence(o, {k: v[i] for k, v in ov.items()})
            assert r == rv[i] and term == tv[i] and not trv[i]
            done[i] = term
    return n_resets


@pytest.mark.parametrize("lookahead", [0, 3])
def test_vector_matches_scalar_with_autoreset(lookahead):
    n_resets = lockstep("toy", B=3, steps=25, seed=5, allocator="equal", n_scenarios=4, lookahead=lookahead)
    assert n_resets >= 3


def test_vector_matches_scalar_medium_default_allocator():
    lockstep("medium", B=4, steps=12, seed=0, allocator=DEFAULT_ALLOCATOR)


def test_partial_reset_and_shapes():
    vec = DownlinkVectorEnv(num_envs=3, preset="toy", allocator="equal")
    obs, info = vec.reset(seed=1)
    assert obs["candidates"].shape == (3, 5, 2, 7) and obs["action_mask"].shape == (3, 10)
    vec.step(np.zeros((3, 5), dtype=int))
    obs, info = vec.reset(options={"reset_mask": np.array([False, True, False])})
    assert info["_scenario_seed"].tolist() == [False, True, False]
    assert obs["time"][:, 0].tolist() == pytest.approx([0.1, 0.0, 0.1])
    with pytest.raises(ValueError, match="shape"):
        vec.step(np.zeros((2, 5), dtype=int))


def test_vector_render():
    vec = DownlinkVectorEnv(num_envs=2, preset="toy", allocator="equal", render_mode="ansi")
    vec.reset(seed=0)
    vec.step(np.zeros((2, 5), dtype=int))
    frames = vec.render()
    assert len(frames) == 2 and all("slot 1/10" in f for f in frames)


def _with_extra_satellite(sc):
    """The scenario with a third satellite (a weaker copy of satellite 0)."""
    import dataclasses

    from leo_env.core.handover import min_handovers

    cat = lambda x, y: np.concatenate([x, y], axis=0)  # noqa: E731
    v = cat(sc.v, sc.v[:1])
    return dataclasses.replace(
        sc,
        v=v,
        g=cat(sc.g, 0.5 * sc.g[:1]),
        N_PRB=cat(sc.N_PRB, sc.N_PRB[:1]),
        P_max=cat(sc.P_max, sc.P_max[:1]),
        elevation_deg=cat(sc.elevation_deg, sc.elevation_deg[:1]),
        sat_ecef=np.concatenate([sc.sat_ecef, sc.sat_ecef[:, :1]], axis=1),
        sat_names=(*sc.sat_names, "extra"),
        min_handovers=min_handovers(v),
    )


def test_rows_with_different_satellite_counts_are_padded():

    sc2 = leo_env.make_scenario("toy", seed=0)
    sc3 = _with_extra_satellite(leo_env.make_scenario("toy", seed=1))
    kw = dict(allocator=DEFAULT_ALLOCATOR, n_candidates=3)
    vec = DownlinkVectorEnv(num_envs=2, scenario=sc2, **kw)
    vec.reset(seed=0)
    obs, _ = vec.reset(options={"scenario": sc3, "reset_mask": np.array([False, True])})
    assert vec._bt.S == 3
    ref = [DownlinkEnv(scenario=sc2, **kw), DownlinkEnv(scenario=sc3, **kw)]
    ref[0].reset(seed=0)
    ref[1].reset(seed=1)  # same generator history as row 1: first reset, then the partial one
    ref[1].reset(options={"scenario": sc3})
    rng = np.random.default_rng(0)
    for _ in range(9):
        masks = vec.action_masks().reshape(2, 5, 3)
        act = np.stack([random_masked_actions(m, rng) for m in masks])
        ov, rv, _, _, iv = vec.step(act)
        for i, env in enumerate(ref):
            o, r, _, _, info = env.step(act[i])
            assert data_equivalence(o, {k: v[i] for k, v in ov.items()})
            assert r == pytest.approx(rv[i], abs=1e-12)
