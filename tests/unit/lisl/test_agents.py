"""Learned lisl agents: config, Graph view, GNN price predictor, PPO, pipeline evaluation.

Tests that import torch are marked ``slow`` (importing torch alone takes seconds on the shared
machine); the default ones (config, Graph view) need numpy and gymnasium only.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents.lisl.config import LislExperiment, load_config
from leo_env.core.overrides import OverrideError
from leo_env.envs.lisl.env import LislRoutingEnv
from leo_env.envs.lisl.wrappers import LislGraphObservation
from oracles.lisl import convert_prices

TINY = [
    "run_dir={run}",
    "data.sizes=[40]",
    "data.train_seeds=2",
    "data.val_seeds=1",
    "data.iterations=30",
    "data.cache_dir={cache}",
    "data.overrides={{n_gateways: 400}}",
    "gnn.hidden=16",
    "gnn.layers=2",
    "train.val_every=1",
    "evaluate.sizes=[40]",
    "evaluate.seeds=2",
    "evaluate.dujo_iterations=30",
    "evaluate.overrides={{n_gateways: 400}}",
    "evaluate.out={out}",
]


def _tiny(tmp_path, *extra):
    ovs = [
        o.format(run=tmp_path / "runs", cache=tmp_path / "cache", out=tmp_path / "eval")
        for o in TINY
    ]
    return load_config(None, [*ovs, *extra])


# ----------------------------------------------------------------------------- config
def test_config_unknown_key_names_closest():
    with pytest.raises(OverrideError, match="train.epochs"):
        load_config(None, ["train.epoch=3"])


@pytest.mark.parametrize(
    "override, field",
    [
        ("agent=sac", "agent"),
        ("train.lr=-1", "train.lr"),
        ("ppo.gamma=1.5", "ppo.gamma"),
        ("data.sizes=[10]", "data.sizes"),
        ("evaluate.seeds=0", "evaluate.seeds"),
    ],
    ids=["agent", "lr", "gamma", "sizes", "seeds"],
)
def test_config_rejects_out_of_range(override, field):
    with pytest.raises((ValueError, OverrideError), match=field.replace(".", r"\.")):
        load_config(None, [override])


def test_experiment_yamls_load():
    from pathlib import Path

    for path in sorted(Path("configs/experiments").glob("lisl_*.yaml")):
        cfg = load_config(path)
        assert isinstance(cfg, LislExperiment), path


# ----------------------------------------------------------------------------- Graph view
def test_graph_view_matches_padded_obs_and_arc_order():
    base = LislRoutingEnv(n_sats=60, n_snapshots=2)
    env = LislGraphObservation(base)
    g, _ = env.reset(seed=3)
    assert g in env.observation_space
    pb = base.problem
    assert g.edges.shape == (pb.n_arcs, 5)
    np.testing.assert_array_equal(g.edge_links[:, 0], pb.graph.arc_tail)
    np.testing.assert_array_equal(g.edge_links[:, 1], pb.graph.arc_head)
    # a per-edge price vector played through the padded action gives DuJo's conversion
    lam = np.random.default_rng(0).random(pb.n_arcs)
    ref = convert_prices(pb, lam).throughput_gbps
    g2, reward, *_, info = env.step(base.action_from_prices(lam))
    assert info["throughput_gbps"] == pytest.approx(ref, rel=1e-6, abs=1e-9)
    assert g2 in env.observation_space
    undirected = LislGraphObservation(LislRoutingEnv(n_sats=60, n_snapshots=1), directed=False)
    g3, _ = undirected.reset(seed=3)
    assert g3.edges.shape[0] == pb.graph.n_links


# ----------------------------------------------------------------------------- torch (slow)
@pytest.mark.slow
def test_obs_to_graph_arc_order():
    from agents.lisl.ppo import obs_to_graph

    env = LislRoutingEnv(n_sats=60, n_snapshots=1)
    obs, _ = env.reset(seed=1)
    _, arc_x, tail, head = obs_to_graph(obs)
    np.testing.assert_array_equal(tail.numpy(), env.problem.graph.arc_tail)
    np.testing.assert_array_equal(head.numpy(), env.problem.graph.arc_head)
    assert arc_x.shape == (env.problem.n_arcs, 5)


@pytest.mark.slow
def test_factorised_forward_equals_concatenation():
    import torch

    from agents.lisl.gnn import ArcGNN, _mean_scatter

    torch.manual_seed(0)
    m = ArcGNN(10, 7, 16, 3, 1)
    n, nl = 50, 300
    i = torch.randint(0, n, (nl,))
    j = (i + torch.randint(1, n, (nl,))) % n
    tail = torch.stack([i, j], 1).reshape(-1)
    head = torch.stack([j, i], 1).reshape(-1)
    nx, ax = torch.randn(n, 10), torch.randn(2 * nl, 7)
    with torch.no_grad():
        h, e = m.node_enc(nx), m.arc_enc(ax)
        for msg, upd, eupd, nn_, en in zip(m.msg, m.upd, m.eupd, m.nnorm, m.enorm, strict=True):
            mm = msg(torch.cat([h[tail], h[head], e], 1))
            agg = [_mean_scatter(mm, head, n), _mean_scatter(mm, tail, n)]
            h = nn_(h + upd(torch.cat([h, *agg], 1)))
            er = e.view(-1, 2, e.shape[1]).flip(1).reshape(e.shape)
            e = en(e + eupd(torch.cat([e, er, h[tail], h[head]], 1)))
        ref = m.head(torch.cat([e, h[tail], h[head]], 1))
        torch.testing.assert_close(m(nx, ax, tail, head), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_dual_subgradient_is_dujo_step():
    from agents.lisl.data import build_snapshot
    from agents.lisl.predictor import dual_subgradient
    from oracles.lisl import DujoParams, subgradient

    _, pb = build_snapshot(60, 0, {"n_gateways": 400})
    assert pb.n_flows > 0
    lam = np.full(pb.n_arcs, 0.5)
    delta = dual_subgradient(pb, lam)
    alpha = 1e-4
    tr = subgradient(pb, DujoParams(iterations=1, alpha0=alpha, beta=0.0), lam0=lam)
    np.testing.assert_allclose((tr.lam_last - lam) / alpha, delta, atol=1e-6)
    assert np.any(delta != 0)


@pytest.mark.slow
def test_gnn_training_improves_resumes_and_evaluates(tmp_path):
    from agents.lisl.data import build_snapshot
    from agents.lisl.evaluation import evaluate
    from agents.lisl.predictor import predictor_solution
    from agents.lisl.training import load_predictor, train_gnn

    cfg = _tiny(tmp_path, "name=full", "train.epochs=6", "train.dual_epochs=1")
    run = train_gnn(cfg, progress=False)
    hist = json.loads((run / "history.json").read_text())
    sup = [h["loss"] for h in hist if h["phase"] == "supervised"]
    assert sup[-1] < sup[0]  # supervised loss decreases on a fixed seed
    assert hist[-1]["phase"] == "dual"
    from agents.families import family_of

    assert family_of(run / "config.yaml") == "lisl"  # what train.py --resume routes by
    # resume: 3 epochs, then continue to 7 == 7 in one go (weights identical)
    part = _tiny(tmp_path, "name=part", "train.epochs=3", "train.dual_epochs=0")
    train_gnn(part, progress=False)
    cont = _tiny(tmp_path, "name=part", "train.epochs=6", "train.dual_epochs=1")
    run2 = train_gnn(cont, resume=tmp_path / "runs" / "part", progress=False)
    import torch

    a = torch.load(run / "last.pt", weights_only=True)["model"]
    b = torch.load(run2 / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    # predictions are feasible DuJo conversions
    pred = load_predictor(run)
    inst, pb = build_snapshot(40, 7, {"n_gateways": 400})
    sol, times = predictor_solution(pred, inst, pb)
    sol.check_feasible(pb)
    assert times["total_s"] >= times["predict_s"] > 0
    # a tampered checkpoint is refused
    with open(run / "model.pt", "ab") as fh:
        fh.write(b"x")
    from agents.trust import UntrustedModelError

    with pytest.raises(UntrustedModelError):
        load_predictor(run)
    load_predictor(run2)
    # paired evaluation: every policy on the same seeds, a table with all of them
    out = evaluate(cfg, ["mrate", "+grid", "dujo", str(run2)], progress=False)
    labels = {s["policy"] for s in out["summary"]}
    assert labels == {"mrate", "+grid", "dujo", "gnn:part"}
    assert all(set(r["throughput_gbps"]) == labels for r in out["rows"])
    assert [r["seed"] for r in out["rows"]] == [0, 1]
    assert "gnn:part" in (tmp_path / "eval" / "results.md").read_text()
    saved = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert saved["labels"][0] == "mrate"
    for r in out["rows"]:
        assert r["throughput_gbps"]["dujo"] <= r["bound_gbps"] + 1e-6


@pytest.mark.slow
def test_ppo_trains_deterministically_and_acts_in_space(tmp_path):
    from agents.lisl.ppo import PpoPolicy, load_actor, train_ppo

    extra = [
        "agent=ppo",
        "env.n_sats=40",
        "env.n_snapshots=2",
        "ppo.total_steps=8",
        "ppo.rollout_steps=4",
        "ppo.epochs=2",
    ]
    r1 = train_ppo(_tiny(tmp_path, "name=p1", *extra), progress=False)
    r2 = train_ppo(_tiny(tmp_path, "name=p2", *extra), progress=False)
    h1 = json.loads((r1 / "history.json").read_text())
    h2 = json.loads((r2 / "history.json").read_text())
    assert len(h1) == 2 and h1 == h2
    policy = PpoPolicy(load_actor(r1))
    env = LislRoutingEnv(n_sats=40, n_snapshots=2)
    obs, _ = env.reset(seed=5)
    a = policy.act(obs, env)
    assert a in env.action_space
    _, reward, *_ = env.step(a)
    assert 0.0 <= reward <= 1.0
