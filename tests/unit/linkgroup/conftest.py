import itertools

import numpy as np
import pytest

from leo_env.core.linkgroups import slot_links
from leo_env.scenario import linkgroup as lg


def make_instance(name="tiny", seed=0, **over):
    cfg = lg.preset(name, **over)
    rng = np.random.default_rng(seed)
    lay = lg.make_layout(cfg, rng)
    task = lg.base_task(cfg, rng)
    inst, levels = lg.build_instance(cfg, lay, task, rng)
    return cfg, inst, levels


def brute_force_min(inst, f):
    """Minimum of f(delivered) over every valid schedule, by plain enumeration of groups."""
    J, K, T = inst.J, inst.K, inst.T
    opts = [[-1] + [k for k in range(K) if inst.compat[j, k] and inst.active[k]] for j in range(J)]
    per_slot = []
    for t in range(T):
        rows = []
        for a in itertools.product(*opts):
            on = [x for x in a if x >= 0]
            if len(on) != len(set(on)):
                continue
            _, bits, ok = slot_links(inst, np.array(a), t)
            if not ok.all():
                continue
            d = np.zeros(K)
            for j, k in enumerate(a):
                if k >= 0:
                    d[k] += bits[j]
            rows.append(d)
        per_slot.append(np.array(rows))
    total = per_slot[0]
    for t in range(1, T):
        total = (total[:, None, :] + per_slot[t][None, :, :]).reshape(-1, K)
    vals = f(total)
    return float(vals.min()), total.shape[0]


@pytest.fixture
def tiny():
    return make_instance("tiny", 0)
