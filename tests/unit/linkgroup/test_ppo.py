import numpy as np
import pytest

from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.policies import play


@pytest.mark.slow
def test_maskable_ppo_is_deterministic_and_plays_valid_groups():
    from agents.linkgroup.ppo import MaskablePPOPolicy, train_maskable_ppo

    kw = {"n_steps": 32, "batch_size": 16, "n_epochs": 2}
    m1 = train_maskable_ppo("tiny", 64, seed=3, **kw)
    m2 = train_maskable_ppo("tiny", 64, seed=3, **kw)
    for p1, p2 in zip(m1.policy.parameters(), m2.policy.parameters(), strict=True):
        assert np.array_equal(p1.detach().numpy(), p2.detach().numpy())
    env = LinkGroupSchedEnv(preset="tiny", mode="groups")
    ep = play(MaskablePPOPolicy(m1), env, seed=0)
    assert ep.infos[-1]["repairs"] == 0
    assert ep.ret == pytest.approx(env.f0 - ep.infos[-1]["objective"], abs=1e-9)
