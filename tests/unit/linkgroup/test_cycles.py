"""benchmarks.linkgroup_cycles: the rebuilt Fig. 8 stream and the per-subset gap summaries."""

import numpy as np

from agents.linkgroup.config import load_config
from agents.linkgroup.training import make_env, window_seed
from benchmarks.linkgroup_cycles import cycle_table, subset_gaps
from leo_env.envs.linkgroup.stream import LinkGroupTaskStream


def test_cycle_table_is_the_stream_fig8_plays():
    cfg = load_config("configs/experiments/linkgroup_emcl_k20.yaml", ["evaluate.fig8_updates=6"])
    e = cfg.evaluate
    rows = cycle_table(cfg, 1)
    base = make_env(cfg, e.layout_seeds[1 % len(e.layout_seeds)])
    env = LinkGroupTaskStream(base, e.fig8_updates - 1, e.fig8_windows * base.cfg.T, "random",
                              window_seed(500, 1))  # as fig8_run builds it
    assert [r["event"] for r in rows[1:]] == list(env.stream.events)
    for r, task in zip(rows, env.stream.tasks, strict=True):
        present = int(task.receivers_active().sum())
        assert r["present_receivers"] == present
        assert r["structurally_overloaded"] == (present > env.unwrapped.cfg.J * env.unwrapped.cfg.T)


def test_subset_gaps_match_the_definitions():
    f = np.array([12.0, 5.0, 3.0])
    f_opt = np.array([10.0, 4.0, 0.0])  # a cycle with F_OPT = 0 has no relative gap
    g = subset_gaps(f, f_opt)
    assert np.isclose(g["gap_mean_pct"], 100 * np.mean([0.2, 0.25]))
    assert np.isclose(g["gap_median_pct"], 22.5)
    assert np.isclose(g["pooled_gap_pct"], 100 * (20.0 / 14.0 - 1))
    assert subset_gaps(np.array([1.0]), np.array([0.0]))["gap_mean_pct"] is None
