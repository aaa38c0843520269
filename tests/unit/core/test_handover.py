import itertools

import numpy as np
import pytest

from leo_env.core import handover


def _brute_min_handovers(v, initial=None):
    S, C, K = v.shape
    out = np.full(C, -1)
    for c in range(C):
        best = None
        for seq in itertools.product(range(S), repeat=K):
            if not all(v[s, c, k] for k, s in enumerate(seq)):
                continue
            h = sum(seq[k] != seq[k - 1] for k in range(1, K))
            if initial is not None and initial[c] >= 0:
                h += seq[0] != initial[c]
            best = h if best is None else min(best, h)
        if best is not None:
            out[c] = best
    return out


@pytest.mark.parametrize("seed", range(12))
def test_min_handovers_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    S, C, K = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 6)
    v = rng.random((S, C, K)) < 0.6
    initial = rng.integers(-1, S, C) if seed % 2 else None
    np.testing.assert_array_equal(
        handover.min_handovers(v, initial), _brute_min_handovers(v, initial)
    )


def test_min_handovers_forced_switch_and_uncovered():
    v = np.zeros((2, 2, 4), dtype=bool)
    v[0, 0, :2] = True
    v[1, 0, 2:] = True  # satellite 0 sets, 1 rises: one forced handover
    v[0, 1, [0, 1, 3]] = True  # slot 2 uncovered for cell 1
    np.testing.assert_array_equal(handover.min_handovers(v), [1, -1])


def test_count_handovers_and_onehot_roundtrip():
    assoc = np.array([[0, 0, 1, 1, 0], [2, 2, 2, -1, 2]])
    h = handover.count_handovers(assoc)
    np.testing.assert_array_equal(h, [[0, 0, 1, 0, 1], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(
        handover.count_handovers(assoc, initial=np.array([1, 2]))[:, 0], [1, 0]
    )
    x = handover.assoc_to_onehot(assoc, 3)
    assert x.shape == (3, 2, 5) and x.sum() == 9
    np.testing.assert_array_equal(handover.onehot_to_assoc(x), assoc)


def test_onehot_rejects_double_association():
    x = np.zeros((2, 1, 1))
    x[:, 0, 0] = 1
    with pytest.raises(ValueError, match="cell 0 is associated to 2 satellites"):
        handover.onehot_to_assoc(x)
    with pytest.raises(ValueError, match="assoc entries"):
        handover.assoc_to_onehot(np.array([[3]]), 2)
