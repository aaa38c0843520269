"""GNN price predictor (DeepLaDu-style): one forward pass replaces DuJo's subgradient iterations.

Model: :class:`agents.lisl.gnn.ArcGNN` over the snapshot graph of
:func:`agents.lisl.features.graph_features`, one logit per arc, ``lambda = sigmoid(logit)`` (inside
Lemma 1's box ``[0, 1]``).  Prices are then turned into a decision by DuJo's own conversion
(:func:`oracles.lisl.dujo.convert_prices`: greedy matching, Dijkstra on the established links, rate
LP), so every prediction is feasible.

Training, two phases on seeded snapshots with I = 200-500 satellites:

1. *supervised*: binary cross-entropy between ``sigmoid(logit)`` and DuJo's prices after K = 500
   iterations (soft targets in [0, 1]);
2. *dual fine-tuning* (optional, ``dual_epochs > 0``): the subgradient edge loss of DeepLaDu.
   At the predicted prices, one DuJo iteration (matching, shortest paths, transport LP) gives the
   subgradient ``delta_ij`` (routed load minus matched capacity) of the Lagrangian dual
   ``h(lambda)``; the surrogate loss ``-sum_ij lambda_ij delta_ij`` (delta held fixed) has gradient
   ``-delta = dh/dlambda``, so gradient descent on the network weights lowers the dual bound,
   the quantity DuJo's iterations minimise.  The supervised term is kept with weight
   ``supervised_weight``.

The checkpoint kept is the one with the best mean converted-throughput ratio (GNN / DuJo) on the
validation snapshots.  Checkpoints are written atomically after every epoch (weights and optimiser
state with ``torch.save``, loaded back with ``weights_only=True``), so an interrupted run resumes.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from agents.lisl.features import ARC_FEATURES, NODE_FEATURES, graph_features
from agents.lisl.gnn import ArcGNN, batch_graphs
from agents.trust import verify_digest
from leo_env.core.graph import shortest_paths
from leo_env.policies import Policy
from leo_env.scenario.lisl import LislInstance
from oracles.lisl.dujo import convert_prices
from oracles.lisl.lp import TransportLP
from oracles.lisl.problem import LislProblem
from oracles.lisl.routing import match
from oracles.lisl.solution import LislSolution

__all__ = [
    "PricePredictor",
    "predict_prices",
    "predictor_solution",
    "dual_subgradient",
    "GnnPricePolicy",
    "save_checkpoint",
    "load_checkpoint",
    "load_run_weights",
]


@dataclass
class PricePredictor:
    """A trained (or fresh) price model and its architecture."""

    model: ArcGNN
    hidden: int
    layers: int

    @classmethod
    def create(cls, hidden: int = 64, layers: int = 4, seed: int = 0) -> PricePredictor:
        """Fresh model with seeded initial weights."""
        torch.manual_seed(int(seed))
        return cls(ArcGNN(len(NODE_FEATURES), len(ARC_FEATURES), hidden, layers, 1), hidden, layers)


def _tensors(
    node_x: np.ndarray, arc_x: np.ndarray, tail: np.ndarray, head: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(np.ascontiguousarray(node_x, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(arc_x, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(tail, dtype=np.int64)),
        torch.from_numpy(np.ascontiguousarray(head, dtype=np.int64)),
    )


def predict_prices(
    predictor: PricePredictor, problem: LislProblem, pos_m: np.ndarray, max_distance_m: float
) -> np.ndarray:
    """Predicted arc prices ``lambda`` in [0, 1], shape (2L,)."""
    f = graph_features(problem, pos_m, max_distance_m)
    if f.n_arcs == 0:
        return np.zeros(0)
    predictor.model.eval()
    with torch.no_grad():
        logit = predictor.model(*_tensors(f.node_x, f.arc_x, f.tail, f.head))[:, 0]
    return torch.sigmoid(logit).double().numpy()


def predictor_solution(
    predictor: PricePredictor, instance: LislInstance, problem: LislProblem
) -> tuple[LislSolution, dict[str, float]]:
    """Predicted prices converted by DuJo's conversion; also the time of each part [s].

    Wall-clock times (``predict_s``: features and forward pass; ``conversion_s``; ``total_s``)
    and the process CPU time of the whole (``cpu_s``; on a shared machine the wall clock also
    counts the time other processes hold the cores).
    """
    c0 = time.process_time()
    t0 = time.perf_counter()
    lam = predict_prices(predictor, problem, instance.pos_m, instance.config.max_distance_km * 1e3)
    t1 = time.perf_counter()
    sol = convert_prices(problem, lam, method="gnn")
    t2 = time.perf_counter()
    cpu = time.process_time() - c0
    return sol, {
        "predict_s": t1 - t0,
        "conversion_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": cpu,
    }


def dual_subgradient(
    problem: LislProblem, lam: np.ndarray, transport: TransportLP | None = None
) -> np.ndarray:
    """Subgradient ``delta`` (routed load minus matched capacity, shape (2L,)) at ``lam`` [Gbit/s].

    One iteration of DuJo's Alg. 1 without the update: greedy matching with weights
    ``(lambda_ij + lambda_ji) r_nm``, shortest paths with costs ``lambda`` (+1e-9 per hop), the
    transport LP.  ``-delta`` is a subgradient of the dual function ``h(lambda)`` (with the
    paper's greedy matching, an approximate one).
    """
    tlp = TransportLP(problem) if transport is None else transport
    rate = problem.rate_gbps
    c = match(problem, problem.pair_price(lam) * rate, take_nonpositive=False)
    paths = shortest_paths(problem.arcs, lam + 1e-9, problem.flow_src, problem.flow_dst)
    owner = np.repeat(np.arange(problem.n_flows), paths.hops())
    cost = np.bincount(owner, weights=lam[paths.arcs], minlength=problem.n_flows)
    q, _ = tlp.solve(np.where(paths.reachable, 1.0 - cost, 0.0))
    load = np.bincount(paths.arcs, weights=q[owner], minlength=problem.n_arcs)
    cap = np.bincount(problem.graph.pair_link[c], weights=rate[c], minlength=problem.graph.n_links)
    return load - np.repeat(cap, 2)


class GnnPricePolicy(Policy):
    """The GNN's prices for the current snapshot of ``LislRouting-v0`` (``action_mode="prices"``)."""

    name = "gnn"

    def __init__(self, predictor: PricePredictor) -> None:
        super().__init__()
        self.predictor = predictor

    def act(self, obs: Any, env: Any) -> np.ndarray:
        """Prices of the current snapshot as a ``prices`` action."""
        u = env.unwrapped
        if u.env_params.action_mode != "prices":
            raise ValueError("GnnPricePolicy needs action_mode='prices'")
        lam = predict_prices(
            self.predictor, u.problem, u.instance.pos_m, u.env_params.max_distance_km * 1e3
        )
        return u.action_from_prices(lam)


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, p)


def load_checkpoint(path: str | os.PathLike[str], run: str | os.PathLike[str] | None, trust: bool = False) -> dict[str, Any]:
    """Tensors and plain containers of a checkpoint, after its digest check.

    The file's SHA-256 must be recorded in ``run`` (see :func:`agents.trust.verify_digest`)
    unless ``trust``; ``weights_only=True`` loads no pickled objects either way.
    """
    verify_digest(path, run, trust=trust)
    return torch.load(path, map_location="cpu", weights_only=True)


def load_run_weights(run: str | os.PathLike[str], trust: bool = False) -> tuple[Any, dict[str, Any]]:
    """A trained run folder's resolved config and the state dict of its ``model.pt``.

    Raises
    ------
    FileNotFoundError
        When the run has no ``model.pt`` (not trained yet).
    """
    run = Path(run)
    cfg = OmegaConf.load(run / "config.yaml")
    path = run / "model.pt"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (train the run first)")
    return cfg, load_checkpoint(path, run, trust)["model"]


# ----------------------------------------------------------------------------- training
def _bce(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(logit, target)


def supervised_epoch(
    predictor: PricePredictor,
    optimizer: torch.optim.Optimizer,
    records: Sequence[dict[str, np.ndarray]],
    rng: np.random.Generator,
    batch: int,
    target: str = "lam_last",
) -> float:
    """One pass over ``records`` in random order; returns the mean loss."""
    model = predictor.model
    model.train()
    order = rng.permutation(len(records))
    losses = []
    for k in range(0, len(order), batch):
        rs = [records[int(i)] for i in order[k : k + batch]]
        nx, ax, t, h, _ = batch_graphs(
            [_tensors(r["node_x"], r["arc_x"], r["tail"], r["head"]) for r in rs]
        )
        y = torch.from_numpy(np.concatenate([r[target] for r in rs]).astype(np.float32))
        loss = _bce(model(nx, ax, t, h)[:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else math.nan


def dual_epoch(
    predictor: PricePredictor,
    optimizer: torch.optim.Optimizer,
    records: Sequence[dict[str, np.ndarray]],
    problems: Sequence[LislProblem],
    rng: np.random.Generator,
    supervised_weight: float,
    target: str = "lam_last",
) -> float:
    """One pass of the subgradient edge loss (one snapshot per step); returns the mean delta norm."""
    model = predictor.model
    model.train()
    norms = []
    for i in rng.permutation(len(records)):
        r, pb = records[int(i)], problems[int(i)]
        logit = model(*_tensors(r["node_x"], r["arc_x"], r["tail"], r["head"]))[:, 0]
        lam = torch.sigmoid(logit)
        delta = dual_subgradient(pb, lam.detach().double().numpy())
        scale = max(float(np.abs(delta).sum()), 1e-9)
        d = torch.from_numpy((delta / scale).astype(np.float32))
        loss = -(lam * d).sum() * float(lam.shape[0]) ** 0.5
        if supervised_weight > 0:
            y = torch.from_numpy(r[target].astype(np.float32))
            loss = loss + supervised_weight * _bce(logit, y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        norms.append(float(np.linalg.norm(delta)))
    return float(np.mean(norms)) if norms else math.nan


def validate(
    predictor: PricePredictor,
    snapshots: Sequence[tuple[LislInstance, LislProblem, float]],
) -> dict[str, float]:
    """Mean converted-throughput ratio GNN / DuJo on ``(instance, problem, dujo_gbps)`` triples."""
    ratios, times = [], []
    for inst, pb, ref in snapshots:
        sol, t = predictor_solution(predictor, inst, pb)
        ratios.append(sol.throughput_gbps / ref if ref > 0 else 1.0)
        times.append(t["total_s"])
    return {
        "ratio_mean": float(np.mean(ratios)) if ratios else math.nan,
        "ratio_min": float(np.min(ratios)) if ratios else math.nan,
        "time_mean_s": float(np.mean(times)) if times else math.nan,
    }


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Small JSON file written atomically."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, p)
