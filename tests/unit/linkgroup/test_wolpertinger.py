import numpy as np
import pytest

from agents.linkgroup import NearestGroups, nearest_valid_groups
from leo_env.core.linkgroups import enumerate_groups, group_embedding, slot_links
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv


@pytest.mark.parametrize("backend", ["walk", "python"])  # "lazy" (compiled): test_knn_fast, slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_valid_groups_equal_brute_force(seed, backend):
    env = LinkGroupSchedEnv(preset="small")
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(seed):  # a later slot for some cases
        env.step(np.full(env.cfg.J, env.cfg.K))
    inst, t = env.instance, env.t
    J, K = env.cfg.J, env.cfg.K
    groups = enumerate_groups(inst.usable)
    valid = np.array([slot_links(inst, g, t)[2].all() for g in groups])
    emb = group_embedding(groups[valid], K)
    for k in (1, 10, 40):
        proto = rng.normal(0.3, 0.6, (J, K))
        d2_ref = ((emb - proto.reshape(-1)) ** 2).sum(axis=1)
        order = np.argsort(d2_ref, kind="stable")[:k]
        got, d2 = NearestGroups(env, backend)(proto, k=k)
        assert len(got) == min(k, valid.sum())
        np.testing.assert_allclose(d2, d2_ref[order], rtol=1e-12, atol=1e-12)
        ref_set = {tuple(r) for r in groups[valid][order]}
        assert {tuple(r) for r in got} == ref_set
        for g in got:
            assert slot_links(inst, g, t)[2].all()


def test_nearest_valid_groups_skips_invalid_and_exhausts():
    usable = np.array([[True, True], [True, True]])
    proto = np.array([[1.0, 0.0], [1.0, 0.0]])  # both want receiver 0: duplicates are skipped
    g, d2 = nearest_valid_groups(proto, usable, 2, lambda a: True)
    assert {tuple(r) for r in g.tolist()} == {(0, -1), (-1, 0)} and np.allclose(d2, [1.0, 1.0])
    g, _ = nearest_valid_groups(proto, usable, 100, lambda a: True)
    assert len(g) == 7  # every group of a 2 x 2 complete bipartite graph
    with pytest.raises(ValueError, match="k"):
        nearest_valid_groups(proto, usable, 0, lambda a: True)
