import numpy as np
import pytest
import torch as th

from agents.envs import ObsLayout
from agents.networks import CandidateActorCritic


def _permute_cells(layout: ObsLayout, x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    parts = layout.unflatten(x.copy())
    out = {}
    for k, v in parts.items():
        if k == "time":
            out[k] = v
        elif k == "action_mask":
            out[k] = v.reshape(layout.C, layout.n)[perm].ravel()
        else:
            out[k] = v[perm]
    return layout.flatten(out, out.get("candidate_ids"))


@pytest.mark.parametrize("ids, lookahead", [(False, 0), (True, 0), (True, 3)])
def test_candidate_network_is_cell_permutation_equivariant(rng, ids, lookahead):
    th.manual_seed(0)
    layout = ObsLayout.from_dims(C=5, n=3, L=4, ids=ids, A=lookahead)
    net = CandidateActorCritic(layout, 16)
    x = rng.random(layout.dim).astype(np.float32)
    x[layout.slices["candidates"]] = rng.random(layout.C * layout.n * layout.F) > 0.3  # some valid pairs
    if ids:
        x[layout.slices["candidate_ids"]] = rng.integers(-1, 4, layout.C * layout.n)
    perm = rng.permutation(layout.C)
    xp = _permute_cells(layout, x, perm)
    with th.no_grad():
        lo = net.forward_actor(th.as_tensor(x[None])).reshape(layout.C, layout.n)
        lp = net.forward_actor(th.as_tensor(xp[None])).reshape(layout.C, layout.n)
        vo, vp = net.forward_critic(th.as_tensor(x[None])), net.forward_critic(th.as_tensor(xp[None]))
    th.testing.assert_close(lo[perm], lp, rtol=1e-5, atol=1e-6)
    th.testing.assert_close(vo, vp, rtol=1e-5, atol=1e-6)
    if lookahead:  # the look-ahead entries reach the logits
        x2 = x.copy()
        x2[layout.slices["forecast_ahead"]] += 1.0
        with th.no_grad():
            assert not th.allclose(net.forward_actor(th.as_tensor(x2[None])), lo.reshape(1, -1))


def test_satellite_pooling_sees_competition():
    """Two observations that differ only in which satellite the other cells list."""
    th.manual_seed(0)
    layout = ObsLayout.from_dims(C=3, n=2, L=1, ids=True)
    net = CandidateActorCritic(layout, 8)
    x = np.zeros(layout.dim, np.float32)
    cand = np.zeros((3, 2, layout.F), np.float32)
    cand[..., 5] = 1.0  # all real
    x[layout.slices["candidates"]] = cand.ravel()
    a, b = x.copy(), x.copy()
    a[layout.slices["candidate_ids"]] = [0, 1, 0, 2, 0, 2]  # satellite 0 listed by every cell
    b[layout.slices["candidate_ids"]] = [0, 1, 3, 2, 3, 2]  # cell 0 alone on satellite 0
    with th.no_grad():
        la, lb = (net.forward_actor(th.as_tensor(v[None])) for v in (a, b))
    assert not th.allclose(la[0, :2], lb[0, :2])
