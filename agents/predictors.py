"""Demand predictors: naive, EWMA and a small LSTM trained offline and frozen.

A predictor turns a cell's realised per-slot demand history into a forecast of the next slot.
The environment already implements ``naive`` (last value) and ``ewma``
(:func:`leo_env.envs.downlink.tables.forecast_tables`) and the ``noisy-truth`` forecast with a controlled
relative error (5 %, 10 %, 20 %) used for the prediction-error sweeps.  This module adds the
learned one:

* :class:`LSTMForecaster` -- one-layer LSTM (hidden 32) over a cell's demand sequence
  (normalised by the training mean), trained by :func:`train_lstm` on scenario demand traces of
  training seeds, then frozen and saved (``runs/predictors/<preset>/lstm.pt`` by default,
  written atomically with its normalisation and training statistics);
* :func:`lstm_forecaster` -- the frozen network as a forecaster ``f(demand (C, K), prior (C,))
  -> base forecasts (C, K)``, causal: slot ``k`` only uses slots ``< k`` (``prior`` at slot 0);
* the environment's public ``predictor=`` hook takes that forecaster (``agents.envs.env_kwargs``
  passes it for ``env.predictor: lstm``); the environment draws the error factors
  (``prediction_error``) as for ``naive``, and ``env.unwrapped.forecast()`` (used by the MPC
  baseline) sees the learned forecasts too.

Configure with ``env.predictor: lstm`` (and optionally ``env.predictor_weights``).

Command line::

    python -m agents.predictors train --preset medium --seeds 200 --epochs 60
    python -m agents.predictors compare --preset medium --seeds 50
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from torch import nn

from agents.config import ROOT, EnvConfig
from leo_env.core.forecast import relative_error
from leo_env.core.overrides import add_set_argument
from leo_env.envs.downlink.tables import EVAL_SEED_RANGE
from leo_env.io import atomic_write

__all__ = [
    "LSTMForecaster",
    "naive_forecaster",
    "ewma_forecaster",
    "lstm_forecaster",
    "train_lstm",
    "save_lstm",
    "load_lstm",
    "load_forecaster",
    "default_weights_path",
    "demand_traces",
]

Forecaster = Callable[[np.ndarray, np.ndarray], np.ndarray]


def naive_forecaster(demand: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Last value: ``base[:, k] = demand[:, k-1]`` (``prior`` at ``k = 0``) [bit]."""
    base = np.empty_like(np.asarray(demand, dtype=float))
    base[:, 0] = prior
    base[:, 1:] = demand[:, :-1]
    return base


def ewma_forecaster(alpha: float = 0.3) -> Forecaster:
    """EWMA ``f <- alpha x + (1 - alpha) f`` of the past slots (``prior`` at ``k = 0``)."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")

    def f(demand: np.ndarray, prior: np.ndarray) -> np.ndarray:
        d = np.asarray(demand, dtype=float)
        base = np.empty_like(d)
        base[:, 0] = prior
        state = d[:, 0].copy()
        for k in range(1, d.shape[1]):
            if k > 1:
                state = alpha * d[:, k - 1] + (1 - alpha) * state
            base[:, k] = state
        return base

    return f


class LSTMForecaster(nn.Module):
    """One-step-ahead demand forecaster over a cell's sequence.

    Parameters
    ----------
    hidden : int
        LSTM width.
    scale : float
        Demand normalisation [bit per slot] (training mean).

    Notes
    -----
    ``forward(x)`` with ``x`` (N, T) normalised demand returns (N, T) predictions of the
    *next* slot's normalised demand (output ``t`` sees inputs ``0..t``).
    """

    scale: th.Tensor  # a buffer: saved with the weights

    def __init__(self, hidden: int = 32, scale: float = 1.0) -> None:
        super().__init__()
        self.hidden = int(hidden)
        self.register_buffer("scale", th.tensor(float(scale)))
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: th.Tensor) -> th.Tensor:
        """Next-slot predictions (N, T), non-negative."""
        out, _ = self.lstm(x[..., None])
        return nn.functional.softplus(self.head(out)[..., 0])


def demand_traces(preset: str, seeds: range | list[int], overrides: list[str] | None = None) -> np.ndarray:
    """Realised per-slot demand of every cell, stacked over scenario seeds, shape (N, K) [bit]."""
    import leo_env

    out = []
    for s in seeds:
        sc = leo_env.make_scenario(preset, seed=int(s), overrides=list(overrides or []))
        out.append(np.asarray(sc.a, dtype=float).sum(axis=2))
    return np.concatenate(out, axis=0)


def train_lstm(
    preset: str,
    seeds: int = 200,
    epochs: int = 60,
    hidden: int = 32,
    learning_rate: float = 3e-3,
    seed: int = 0,
    overrides: list[str] | None = None,
) -> tuple[LSTMForecaster, dict[str, Any]]:
    """Train the LSTM on the demand traces of training seeds ``0 .. seeds-1``.

    Returns
    -------
    model : LSTMForecaster
        The trained network (eval mode, frozen).
    stats : dict
        Training loss and sizes.
    """
    th.manual_seed(seed)
    rng = np.random.default_rng(seed)
    traces = demand_traces(preset, range(seeds), overrides)
    traces = traces[traces.sum(axis=1) > 0]
    scale = float(traces.mean()) or 1.0
    x = th.as_tensor(traces / scale, dtype=th.float32)
    model = LSTMForecaster(hidden, scale)
    opt = th.optim.Adam(model.parameters(), lr=learning_rate)
    n = x.shape[0]
    loss_v = float("nan")
    t0 = time.perf_counter()
    for _ in range(int(epochs)):
        order = th.as_tensor(rng.permutation(n))
        tot, nb = 0.0, 0
        for i in range(0, n, 256):
            xb = x[order[i : i + 256]]
            pred = model(xb[:, :-1])
            loss = nn.functional.mse_loss(pred, xb[:, 1:])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot, nb = tot + loss.item(), nb + 1
        loss_v = tot / max(nb, 1)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    stats = {
        "preset": preset, "overrides": list(overrides or []), "seeds": int(seeds), "sequences": int(n),
        "epochs": int(epochs), "hidden": int(hidden), "final_mse_normalised": loss_v,
        "train_time_s": time.perf_counter() - t0,
    }
    return model, stats


def save_lstm(model: LSTMForecaster, path: str | os.PathLike[str], stats: dict[str, Any]) -> Path:
    """Save weights, normalisation and statistics atomically (``torch.save``)."""
    payload = {"state_dict": model.state_dict(), "hidden": model.hidden, "scale": float(model.scale), "stats": stats}
    return atomic_write(path, lambda tmp: th.save(payload, tmp))


def load_lstm(path: str | os.PathLike[str]) -> LSTMForecaster:
    """Load a frozen :class:`LSTMForecaster` saved by :func:`save_lstm`."""
    payload = th.load(str(path), map_location="cpu", weights_only=True)
    model = LSTMForecaster(int(payload["hidden"]), float(payload["scale"]))
    model.load_state_dict(payload["state_dict"])
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def lstm_forecaster(model: LSTMForecaster) -> Forecaster:
    """The frozen network as a causal forecaster ``f(demand (C, K), prior (C,)) -> (C, K)`` [bit]."""

    def f(demand: np.ndarray, prior: np.ndarray) -> np.ndarray:
        d = np.asarray(demand, dtype=float)
        base = np.empty_like(d)
        base[:, 0] = prior
        if d.shape[1] > 1:
            with th.no_grad():
                x = th.as_tensor(d[:, :-1] / float(model.scale), dtype=th.float32)
                base[:, 1:] = model(x).numpy() * float(model.scale)
        return base

    return f


def default_weights_path(cfg: EnvConfig) -> Path:
    """``runs/predictors/<preset>/lstm.pt`` under the repository root."""
    return ROOT / "runs" / "predictors" / Path(cfg.preset).stem / "lstm.pt"


def load_forecaster(cfg: EnvConfig) -> Forecaster:
    """The configured learned forecaster; trains and saves the LSTM on first use."""
    path = Path(cfg.predictor_weights) if cfg.predictor_weights else default_weights_path(cfg)
    if not path.exists():
        model, stats = train_lstm(cfg.preset, overrides=list(cfg.overrides))
        save_lstm(model, path, stats)
    return lstm_forecaster(load_lstm(path))


def compare(preset: str, seeds: int, weights: str | None, overrides: list[str] | None = None) -> dict[str, float]:
    """RMS relative one-step error of naive, EWMA and LSTM on held-out seeds (slots >= 1)."""
    traces = demand_traces(preset, range(EVAL_SEED_RANGE[0], EVAL_SEED_RANGE[0] + seeds), overrides)
    prior = traces[:, 0]
    cfg = EnvConfig(preset=preset, overrides=list(overrides or []), predictor_weights=weights)
    out = {}
    for name, f in (("naive", naive_forecaster), ("ewma", ewma_forecaster(0.3)), ("lstm", load_forecaster(cfg))):
        pred = f(traces, prior)
        out[name] = relative_error(pred[:, 1:], traces[:, 1:])
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.predictors {train,compare} --preset P``."""
    ap = argparse.ArgumentParser(description="Train / compare demand predictors.")
    ap.add_argument("command", choices=["train", "compare"])
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--out", default=None, help="weights file (default runs/predictors/<preset>/lstm.pt)")
    add_set_argument(ap, "demand.scale=1.5")
    args = ap.parse_args(argv)
    th.set_num_threads(1)
    cfg = EnvConfig(preset=args.preset, overrides=list(args.set), predictor_weights=args.out)
    if args.command == "train":
        model, stats = train_lstm(args.preset, args.seeds, args.epochs, overrides=list(args.set))
        path = save_lstm(model, args.out or default_weights_path(cfg), stats)
        print(f"saved {path}: {stats}")
    else:
        errs = compare(args.preset, args.seeds, args.out, list(args.set))
        for k, v in errs.items():
            print(f"{k:6s} RMS relative error {v:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
