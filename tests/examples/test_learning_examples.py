"""The TorchRL and CleanRL-style examples on a tiny budget (default suite) and a learning check (slow)."""

from __future__ import annotations

import math

import pytest
import torch


def test_torchrl_batched_example_samples_only_allowed_actions():
    pytest.importorskip("torchrl")
    from examples.torchrl_batched import main

    out = main(total_steps=64, num_envs=2, rollout=16)  # 2 batches across an episode end (K = 10)
    assert out["updates"] == 2 and out["invalid"] == 0
    assert math.isfinite(out["first"]) and math.isfinite(out["last"])


def test_cleanrl_gae_skips_next_step_reset_rows():
    from examples.cleanrl_masked_ppo import gae

    # one env, T = 4: step 1 ends the episode (terminated), step 2 is the NEXT_STEP reset step
    r = torch.tensor([[1.0], [2.0], [0.0], [4.0]])
    v = torch.tensor([[0.5], [0.25], [9.0], [0.75]])
    term = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    valid = torch.tensor([[True], [True], [False], [True]])
    g, lam = 0.9, 0.8
    adv = gae(r, v, term, term, valid, torch.tensor([2.0]), g, lam)
    a3 = 4.0 + g * 2.0 - 0.75
    a1 = 2.0 - 0.25  # terminated: no bootstrap from the final observation's value (9.0)
    a0 = (1.0 + g * 0.25 - 0.5) + g * lam * a1
    torch.testing.assert_close(adv.squeeze(-1), torch.tensor([a0, a1, 0.0, a3]))
    # truncation bootstraps from the final observation's value, still no chain across the reset
    adv_t = gae(r, v, torch.zeros_like(term), term, valid, torch.tensor([2.0]), g, lam)
    assert adv_t[1, 0].item() == pytest.approx(2.0 + g * 9.0 - 0.25)
    assert adv_t[2, 0].item() == 0.0


def test_cleanrl_masked_ppo_example_updates_and_never_picks_masked_actions():
    from examples.cleanrl_masked_ppo import main

    out = main(total_steps=128, num_envs=2, num_steps=32, eval_episodes=2)
    assert out["updates"] == 2 and out["invalid_actions"] == 0 and out["repairs"] == 0
    # K = 10: after every 10 steps of a row comes its reset step, left out of the batch
    assert out["reset_steps"] == 2 * 5 and out["transitions"] + out["reset_steps"] == 128
    assert math.isfinite(out["approx_kl"]) and out["approx_kl"] != 0.0
    assert math.isfinite(out["greedy_return"]) and math.isfinite(out["random_return"])


@pytest.mark.slow
def test_cleanrl_masked_ppo_beats_random_play():
    from examples.cleanrl_masked_ppo import main

    out = main(total_steps=30_000, seed=0, eval_episodes=32)
    assert out["invalid_actions"] == 0
    assert out["greedy_return"] > out["random_return"] + 0.25
