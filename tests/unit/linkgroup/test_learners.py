"""EMCL / AC-MAML / AC-DDPG learners: config, acting, training, resume, evaluation."""

import numpy as np
import pytest
import torch

from agents.linkgroup.config import load_config
from agents.linkgroup.learner import Learner, embed
from agents.linkgroup.training import make_env, new_learner, play_window, run_stream, train
from leo_env.core.linkgroups import slot_links
from leo_env.core.overrides import OverrideError


def _cfg(tmp_path, algo="emcl", **kw):
    ov = [f"algo={algo}", f"name=t_{algo}", f"run_dir={tmp_path}/runs", "env.preset=tiny",
          "train.n_tasks=2", "train.tasks_per_episode=1", "train.meta_episodes=2",
          "train.checkpoint_every=1", "agent.warmup=4", "agent.batch_size=8", "agent.memory=64",
          "agent.conv=[8,8]", "agent.hidden=16", "agent.lstm_hidden=8", "agent.context_len=3",
          "evaluate.seeds=2", "evaluate.windows_per_task=1", "evaluate.stream_seeds=1",
          "evaluate.interval=51", "evaluate.changes=1", "evaluate.bootstrap=50",
          "evaluate.layout_seeds=[0]", f"evaluate.out={tmp_path}/out"]
    ov += [f"{k}={v}" for k, v in kw.items()]
    return load_config(None, ov)


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(OverrideError, match="agent.k'"):
        load_config(None, ["agent.kk=3"])
    with pytest.raises(ValueError, match="algo"):
        load_config(None, ["algo=ppo"])
    with pytest.raises(ValueError, match="agent.gamma"):
        load_config(None, ["agent.gamma=1.5"])


def test_experiment_yamls_load():
    from pathlib import Path

    files = sorted(Path("configs/experiments").glob("linkgroup_*.yaml"))
    assert len(files) >= 4
    algos = {load_config(f).algo for f in files}
    assert algos == {"emcl", "emcl-nowolp", "ac-ddpg", "ac-maml"}


def test_embed_roundtrip():
    a = np.array([[2, -1, 0], [-1, -1, -1]])
    e = embed(a, 4)
    assert e.shape == (2, 3, 4) and e.sum() == 2 and e[0, 0, 2] == 1 and e[0, 2, 0] == 1


@pytest.mark.slow
@pytest.mark.parametrize("algo,k", [("emcl", 10), ("ac-ddpg", 1)])
def test_actions_are_valid_groups_and_wolpertinger_picks_max_q(tmp_path, algo, k):
    cfg = _cfg(tmp_path, algo)
    env = make_env(cfg)
    lr = new_learner(cfg, env)
    assert lr.k == k
    obs, _ = env.reset(seed=3)
    for _ in range(env.cfg.T):
        cands = lr.candidates(env, obs, explore=True)
        assert 1 <= len(cands) <= k
        for c in cands:
            assert slot_links(env.instance, c, env.t)[2].all()
        a = lr.choose(obs, cands)
        if len(cands) > 1:
            with torch.no_grad():
                o = torch.as_tensor(obs)[None].expand(len(cands), -1)
                z = lr._z(torch.as_tensor(lr.context_array())[None], lr.context).expand(len(cands), -1)
                q = lr.critic(o, torch.as_tensor(embed(cands, lr.K)), z)
            assert (a == cands[int(q.argmax())]).all()
        obs2, r, term, _, info = env.step(env.encode(a))
        assert info["step_repairs"] == 0
        lr.observe(obs, a, r, obs2, term)
        obs = obs2


@pytest.mark.slow
@pytest.mark.parametrize("extra", [{}, {"train.bc_windows": 2, "train.bc_steps": 5, "agent.bc_weight": 1.0}],
                         ids=["rl", "bc-term"])
def test_training_resume_equals_uninterrupted_and_is_deterministic(tmp_path, extra):
    full = train(_cfg(tmp_path / "a", **extra), progress=False)
    train(_cfg(tmp_path / "b", **{**extra, "train.meta_episodes": 1}), progress=False)
    resumed = train(_cfg(tmp_path / "b", **extra), resume=True, progress=False)
    again = train(_cfg(tmp_path / "c", **extra), progress=False)
    sa = torch.load(full / "checkpoint.pt", weights_only=True)["learner"]
    sb = torch.load(resumed / "checkpoint.pt", weights_only=True)["learner"]
    sc = torch.load(again / "checkpoint.pt", weights_only=True)["learner"]
    for key in ("actor", "critic", "context"):
        for n, v in sa[key].items():
            assert torch.equal(v, sb[key][n]), (key, n)
            assert torch.equal(v, sc[key][n]), (key, n)


@pytest.mark.slow
def test_tampered_checkpoint_is_refused(tmp_path):
    from agents.linkgroup.training import load_learner
    from agents.trust import UntrustedModelError

    cfg = _cfg(tmp_path, **{"train.meta_episodes": 1})
    run = train(cfg, progress=False)
    st = torch.load(run / "checkpoint.pt", weights_only=True)
    st["learner"]["actor"]["head.2.bias"] += 1.0
    torch.save(st, run / "checkpoint.pt")
    with pytest.raises(UntrustedModelError):
        load_learner(cfg)
    load_learner(cfg, trust=True)


@pytest.mark.slow
def test_critic_learns_on_fixed_data(tmp_path):
    cfg = _cfg(tmp_path, "ac-ddpg", **{"agent.reward_scale": 20.0, "agent.lr": 0.01})
    env = make_env(cfg)
    lr = new_learner(cfg, env)
    for w in range(6):
        play_window(lr, env, w, True)
    b = lr._batch(np.arange(lr.memory.n))
    before = lr.critic_loss(b).item()
    for _ in range(60):
        loss = lr.critic_loss(b)
        lr.critic_opt.zero_grad()
        loss.backward()
        lr.critic_opt.step()
    assert lr.critic_loss(b).item() < 0.5 * before


@pytest.mark.slow
def test_maml_step_changes_init_and_stays_finite(tmp_path):
    from agents.linkgroup.training import maml_step

    cfg = _cfg(tmp_path, "ac-maml")
    env = make_env(cfg)
    lr = new_learner(cfg, env)
    for w in range(3):
        play_window(lr, env, w, True, task=w % 2)
    before = [p.detach().clone() for p in lr.actor.parameters()]
    opt = torch.optim.Adam(list(lr.actor.parameters()) + list(lr.critic.parameters()), lr=1e-2)
    loss = maml_step(lr, [0, 1], 0.01, opt)
    assert np.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, lr.actor.parameters(), strict=True))


@pytest.mark.slow
def test_evaluate_pairs_every_policy_on_the_same_seeds(tmp_path):
    from agents.linkgroup.evaluation import evaluate

    cfg = _cfg(tmp_path)
    train(cfg, progress=False)
    other = _cfg(tmp_path, "ac-ddpg")
    train(other, progress=False)
    import yaml

    p = tmp_path / "ddpg.yaml"
    p.write_text(yaml.safe_dump(other.to_dict()))
    out = evaluate(cfg, ["grd", "opt", str(p)], progress=False)
    labels = {"t_emcl", "t_ac-ddpg", "grd", "opt"}
    assert set(out["summary"]["windows"]) == labels
    assert set(out["summary"]["streams"]) == labels
    import json

    res = json.loads((tmp_path / "out" / "results.json").read_text())
    for row in res["windows"]:
        assert labels <= set(row)
        # OPT is a lower bound of every policy on the same windows
        for lab in labels:
            assert min(row[lab]["F"]) >= 0
            assert np.mean(row[lab]["F"]) >= np.mean(row["opt"]["F"]) - 1e-6
    md = (tmp_path / "out" / "results.md").read_text()
    for lab in labels:
        assert f"| {lab} |" in md


@pytest.mark.slow
def test_run_stream_reinitialises_ac_ddpg_at_changes(tmp_path):
    from leo_env.envs.linkgroup.stream import LinkGroupTaskStream

    cfg = _cfg(tmp_path, "ac-ddpg")
    env = LinkGroupTaskStream(make_env(cfg), 1, 51, ("departure",), 0)
    lr = new_learner(cfg, env.unwrapped)
    calls = []
    real = lr.reinit
    lr.reinit = lambda seed: (calls.append(env.global_slot), real(seed))[1]
    out = run_stream(lr, env, 102, seed=0)
    assert out["series"].shape == (102,)
    assert np.all(np.isfinite(out["series"]))
    assert calls == [51]  # exactly once, at the change
    assert isinstance(lr, Learner) and lr.online and lr.updates > 0


@pytest.mark.slow
def test_fig8_protocol_scores_every_policy_on_the_same_windows(tmp_path):
    """Fig. 8 part: learners adapt online through the stream, OPT lower-bounds every policy per scored window."""
    import json

    from agents.linkgroup.evaluation import evaluate

    cfg = _cfg(tmp_path, **{"evaluate.seeds": 0, "evaluate.stream_seeds": 0, "evaluate.fig8_updates": 3,
                            "evaluate.fig8_windows": 2, "evaluate.fig8_every": 1,
                            "evaluate.fig8_search_updates": 1})
    train(cfg, progress=False)
    out = evaluate(cfg, ["grd", "rollout", "opt"], progress=False)
    f8 = out["summary"]["fig8"]["policies"]
    assert set(f8) == {"t_emcl", "grd", "rollout", "opt"}
    assert f8["rollout"]["n_cycles"] == 1 and f8["grd"]["n_cycles"] == 3
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    by = {r["label"]: r for r in res["fig8"]}
    for lab in ("t_emcl", "grd", "rollout"):
        n = len(by[lab]["F"])
        assert np.all(np.asarray(by[lab]["F"]) >= np.asarray(by["opt"]["F"][:n]) - 1e-6)
    assert "| rollout | 1 |" in (tmp_path / "out" / "results.md").read_text()
