"""Learned agents of the multiorbit family: config, features, BC/critic training, resume, policies, evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch as th

from agents.families import register_family
from agents.multiorbit.config import load_config
from agents.multiorbit.features import association_load, candidate_tokens, canonical, pair_features
from agents.multiorbit.labels import generate_labels, label_episode
from leo_env.core.overrides import OverrideError

TINY_ENV = {"n_ues": 6, "n_sub": 4, "n_max": 3, "max_candidates": 8, "visibility_horizon_s": 0.0, "cone_deg": 60.0}
ROOT = Path(__file__).resolve().parents[3]


def _cfg(tmp: Path, agent: str = "bc-select", **extra: str) -> object:
    sets = [f"agent={agent}", f"run_dir={tmp / 'runs'}", f"labels.cache_dir={tmp / 'labels'}", "labels.seeds=4",
            "labels.slots_per_seed=2", "labels.n_perturb=3", "labels.backend=serial", "train.epochs=6",
            "train.critic_epochs=3", "train.patience=100", "train.batch_size=2", "train.val_fraction=0.25",
            "train.d_model=16", "train.heads=2", "train.layers=1", "evaluate.seeds=2", "evaluate.n_slots=1",
            f"evaluate.out={tmp / 'eval'}", "evaluate.bootstrap=100"]
    sets += [f"env.{k}={v}" for k, v in TINY_ENV.items()]
    sets += [f"{k}={v}" for k, v in extra.items()]
    return load_config(None, sets)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose label cache holds 4 tiny episodes (DV-MOSS, serial)."""
    tmp = tmp_path_factory.mktemp("multiorbit_agents")
    cfg = _cfg(tmp)
    generate_labels(cfg.env_kwargs("select", 2), list(range(100_000, 100_004)), 3, tmp / "labels",  # type: ignore[attr-defined]
                    backend="serial", progress=False)
    return tmp


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(OverrideError, match="train.epochs"):
        load_config(None, ["train.epoch=3"])
    with pytest.raises(OverrideError, match="overlap"):
        load_config(None, ["evaluate.seed_offset=100010"])
    with pytest.raises(OverrideError, match="agent"):
        load_config(None, ["agent=ppo"])
    with pytest.raises(OverrideError, match="cone_deg"):
        load_config(None, ["env.cone_deg=95.0"])


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "experiments").glob("multiorbit_*.yaml")), ids=lambda p: p.stem)
def test_experiment_configs_load_through_the_pipeline(path: Path) -> None:
    register_family("multiorbit", "agents.multiorbit.family:FAMILY")
    from agents.pipeline import load

    fam, cfg = load(path)
    assert fam.name == "multiorbit" and cfg.evaluate.policies


@pytest.mark.slow
def test_labels_deterministic_and_consistent(tiny: Path) -> None:
    a = label_episode({**TINY_ENV, "n_slots": 2}, 100_001, 3)
    b = label_episode({**TINY_ENV, "n_slots": 2}, 100_001, 3)
    for k in a:
        if k != "dv_time_s":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # DV-MOSS's subset is inside the real candidates, its association inside the subset and the cones
    for i in range(a["seed"].size):
        sel = np.flatnonzero(a["selected"][i])
        assert a["mask"][i, sel].all() and 1 <= sel.size <= 3
        served = a["assoc"][i] >= 0
        assert np.isin(a["assoc"][i][served], sel).all()
        assert a["visible"][i, a["assoc"][i][served], np.flatnonzero(served)].all()
        # perturbed associations stay in the cones
        for act in a["critic_assoc"][i]:
            s = act >= 0
            assert a["visible"][i, act[s], np.flatnonzero(s)].all()


def test_features_shapes_padding_and_load() -> None:
    rng = np.random.default_rng(0)
    b, s, u, n = 3, 6, 5, 4
    vis = np.zeros((b, s, u), np.float32)
    vis[:, :n] = rng.random((b, n, u)) < 0.7
    vis[:, 0] = 1.0  # every UE sees candidate 0
    gain = np.where(vis > 0, rng.normal(0.5, 0.2, (b, s, u)), 0).astype(np.float32)
    mask = np.zeros((b, s), np.float32)
    mask[:, :n] = 1
    obs = {"sat": rng.random((b, s, 8)).astype(np.float32), "gain": gain, "visible": vis, "mask": mask,
           "context": np.full((b, 3), 0.5, np.float32)}
    c = canonical(obs)
    tok = candidate_tokens(c)
    assert tok.shape == (b, s, 17) and np.all(tok[:, n:] == 0) and np.isfinite(tok).all()
    # best-option shares sum to 1 over candidates (every UE sees one)
    np.testing.assert_allclose(tok[:, :, 11].sum(axis=1), 1.0, rtol=1e-6)
    pf = pair_features(c)
    assert pf.shape == (b, u, s, 4) and np.all(pf[..., 1] <= 1e-7)
    # the association env's UE-major observation gives the same canonical arrays
    assoc_obs = {"sat": obs["sat"], "gain": gain.transpose(0, 2, 1), "visible": vis.transpose(0, 2, 1),
                 "prev": np.zeros_like(vis.transpose(0, 2, 1)), "context": obs["context"]}
    np.testing.assert_array_equal(canonical(assoc_obs)["gain"], c["gain"])
    act = np.zeros((b, u), np.int64)
    act[:, 0] = -1
    load, glob = association_load(c, act)
    np.testing.assert_allclose(load[:, 0, 0], (u - 1) / u)
    np.testing.assert_allclose(glob[:, 0], 1 / u)


def _final_weights(run: Path) -> dict[str, th.Tensor]:
    return th.load(run / "model.pt", weights_only=True)["bc"]


@pytest.mark.slow
def test_bc_select_learns_and_resume_equals_uninterrupted(tiny: Path, tmp_path: Path) -> None:
    from agents.multiorbit.training import train

    full = train(_cfg(tiny, name="full"), progress=False)
    hist = th.load(full / "bc_ckpt.pt", weights_only=True)["history"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    part = train(_cfg(tiny, name="part", **{"train.epochs": "3"}), progress=False)
    resumed = train(_cfg(tiny, name="part"), resume=part, progress=False)
    for k, v in _final_weights(full).items():
        th.testing.assert_close(_final_weights(resumed)[k], v, msg=k)


@pytest.mark.slow
def test_assoc_agents_feasible_and_evaluation_paired(tiny: Path) -> None:
    from agents.multiorbit.evaluation import evaluate
    from agents.multiorbit.training import train

    run = train(_cfg(tiny, "wolpertinger-assoc", name="wolp"), progress=False)
    crit = th.load(run / "critic_ckpt.pt", weights_only=True)["history"]
    assert crit[-1]["train_loss"] < crit[0]["train_loss"]
    cfg = _cfg(tiny, "wolpertinger-assoc", name="wolp", **{"evaluate.env": "assoc", "evaluate.reference": "best-gain"})
    out = evaluate(cfg, ["best-gain", str(run)], progress=False)  # type: ignore[arg-type]
    rows = {r["policy"]: r for r in out["rows"]}
    assert set(rows) == {"best-gain", "wolp"}
    assert rows["wolp"]["invalid_per_slot"] == 0.0
    assert all(len(v) == 2 for v in out["per_episode"].values())
    md = (Path(out["out"]) / "results.md").read_text()
    assert "| wolp |" in md and "| best-gain |" in md


@pytest.mark.slow
def test_selector_policy_serves_real_candidates(tiny: Path) -> None:
    from agents.multiorbit.evaluation import evaluate
    from agents.multiorbit.training import train

    run = train(_cfg(tiny, "wolpertinger-select", name="sel", **{"train.epochs": "2"}), progress=False)
    crit = th.load(run / "critic_ckpt.pt", weights_only=True)["history"]
    assert crit[-1]["train_loss"] < crit[0]["train_loss"]
    cfg = _cfg(tiny, "wolpertinger-select", name="sel", **{"evaluate.reference": "2-nearest"})
    out = evaluate(cfg, ["2-nearest", str(run)], progress=False)  # type: ignore[arg-type]
    row = {r["policy"]: r for r in out["rows"]}["sel"]
    assert 1 <= row["selected_per_slot"] <= 3 and np.isfinite(row["reward_mbps"])


@pytest.mark.slow
def test_maskable_ppo_bc_init_equals_bc_policy_then_trains(tiny: Path) -> None:
    from agents.multiorbit.policies import make_policy
    from agents.multiorbit.ppo import make_assoc_env
    from agents.multiorbit.training import train

    cfg = _cfg(tiny, "maskppo-assoc", name="ppo", **{"ppo.total_timesteps": "32", "ppo.chunk": "16", "ppo.n_steps": "16",
                                                      "ppo.batch_size": "8", "ppo.learning_rate": "1e-12"})
    run = train(cfg, progress=False)
    ppo = make_policy(str(run), "assoc")
    from agents.multiorbit.policies import AssocBCPolicy
    from agents.multiorbit.training import build_models

    models = build_models(cfg)  # type: ignore[arg-type]
    models["bc"].load_state_dict(th.load(run / "model.pt", weights_only=True)["bc"])
    bcp = AssocBCPolicy(models["bc"])  # type: ignore[arg-type]
    env = make_assoc_env(cfg, 2)  # type: ignore[arg-type]
    obs, _ = env.reset(seed=5)
    np.testing.assert_array_equal(ppo.act(obs, env), bcp.act(obs, env))


def test_soft_targets_are_markov_marginals() -> None:
    from agents.multiorbit.training import soft_targets

    rng = np.random.default_rng(3)
    n, m, s = 4, 6, 5
    explored = (rng.random((n, m, s)) < 0.5).astype(np.uint8)
    obj = rng.normal(100.0, 3.0, (n, m))
    obj[:, 4:] = np.nan  # padding rows
    labels = {"explored": explored, "explored_objective": obj}
    for sharp in (1.0, 3.0):
        got = soft_targets(labels, sharp)
        for i in range(n):
            beta = sharp / (0.01 * abs(obj[i, 0]))
            w = np.array([np.exp(beta * (obj[i, j] - np.nanmax(obj[i]))) for j in range(4)])
            want = (w[:, None] * explored[i, :4]).sum(0) / w.sum()
            np.testing.assert_allclose(got[i], want, rtol=1e-5)
    # very sharp: the indicator of the best explored subset
    best = np.nanargmax(obj, axis=1)
    np.testing.assert_allclose(soft_targets(labels, 1e6), explored[np.arange(n), best], atol=1e-6)
