import itertools

import numpy as np
import pytest

from agents.envs import env_kwargs
from agents.registry import build_model
from agents.vec_env import DownlinkVecEnv
from agents.wolpertinger import Wolpertinger, embedding_matrix, proto_action_space

from .conftest import tiny_config


@pytest.fixture(params=["onehot", "scalar"])
def model_env(request, tmp_path):
    cfg = tiny_config(tmp_path, "agent.algo=wolpertinger", f"agent.wolpertinger.embedding={request.param}",
                      "agent.wolpertinger.k=4", "agent.wolpertinger.learning_starts=20",
                      "agent.wolpertinger.batch_size=16", "train.n_envs=3")
    venv = DownlinkVecEnv(3, env_kwargs(cfg.env), satellite_ids=cfg.env.satellite_ids)
    venv.action_space = proto_action_space(venv.layout.C, venv.layout.n, request.param)
    model = build_model(cfg, venv, venv.layout)
    assert isinstance(model, Wolpertinger)
    return model, venv


def _observations(venv, n_steps=12):
    obs = venv.reset()
    out = [obs]
    for _ in range(n_steps):
        masks = venv.action_masks().reshape(venv.num_envs, venv.layout.C, venv.layout.n)
        obs, *_ = venv.step(masks.argmax(-1))
        out.append(obs)
    return np.concatenate(out)


def test_chosen_action_is_valid_and_the_critics_best_of_the_k_nearest(model_env):
    model, venv = model_env
    lay = venv.layout
    obs = _observations(venv)
    actions, cands, q = model.select(obs, noise_std=0.5)
    masks = lay.mask(obs)
    B = len(obs)
    assert masks[np.arange(B)[:, None], np.arange(lay.C)[None], actions].all()  # always valid
    assert masks[np.arange(B)[:, None, None], np.arange(lay.C)[None, None], cands].all()
    best = q.argmax(1)
    np.testing.assert_array_equal(actions, cands[np.arange(B), best])
    # the candidates are exactly the k nearest allowed joint actions (brute force over n^C)
    with np.errstate(all="ignore"):
        import torch as th

        proto = model.actor(th.as_tensor(obs)).detach().numpy()
    emb = embedding_matrix(lay.n, model.embedding)
    neigh = model.neighbours(proto, masks)
    for b in range(0, B, 5):
        allowed = [np.flatnonzero(masks[b, c]) for c in range(lay.C)]
        joint = np.array(list(itertools.product(*allowed)))
        d = ((emb[joint] - proto[b].reshape(lay.C, -1)[None]) ** 2).sum(axis=(1, 2))
        kth = np.sort(d)[min(model.k, len(d)) - 1]
        dn = ((emb[neigh[b]] - proto[b].reshape(lay.C, -1)[None]) ** 2).sum(axis=(1, 2))
        assert np.all(dn <= kth + 1e-9)


def test_warm_up_samples_valid_actions_and_training_runs(model_env):
    model, venv = model_env
    model.learn(120)  # warm-up (20 steps), then TD3 updates with the k-NN target
    assert model.num_timesteps >= 120
    assert model._n_updates > 0
    obs = venv.reset()
    model._last_obs = obs
    model.num_timesteps = 0
    acts, buf = model._sample_action(learning_starts=10)
    masks = venv.layout.mask(obs)
    assert masks[np.arange(len(obs))[:, None], np.arange(venv.layout.C)[None], acts].all()
    np.testing.assert_array_equal(buf, model.embed(acts))
    pred, _ = model.predict(obs[0])
    assert pred.shape == (venv.layout.C,)
