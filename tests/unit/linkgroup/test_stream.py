import numpy as np
import pytest

from leo_env.scenario import linkgroup as lg

from .conftest import make_instance


def test_task_changes_exactly_at_the_scheduled_slots():
    cfg = lg.preset("small")
    st = lg.make_task_stream(cfg, np.random.default_rng(0), n_changes=4, update_interval=200)
    np.testing.assert_array_equal(st.change_slots, [0, 200, 400, 600, 800])
    ids = np.array([st.task_at(s).task_id for s in range(1000)])
    assert np.all(np.flatnonzero(np.diff(ids)) + 1 == [200, 400, 600, 800])
    assert [s for s in range(1000) if st.is_change(s)] == [200, 400, 600, 800]
    assert st.events == ("departure", "arrival", "burst", "shock")
    assert [t.event for t in st.tasks] == ["base", *st.events]


def test_events_change_the_right_component():
    cfg = lg.preset("k30")
    st = lg.make_task_stream(cfg, np.random.default_rng(3), n_changes=4)
    base, dep, arr, burst, shock = st.tasks
    assert dep.active.sum() < base.active.sum() and not np.any(dep.active & ~base.active)
    assert arr.active.sum() > dep.active.sum() and not np.any(dep.active & ~arr.active)
    assert not np.allclose(burst.demand_factor, 1.0)
    assert shock.chi_db_per_km == pytest.approx(10 * cfg.chi_db_per_km)
    assert shock.shadow_db.max() == 10.0 and shock.shadow_db[0].max() == 0.0


def test_stream_and_instances_are_deterministic():
    cfg = lg.preset("small")
    a = lg.make_task_stream(cfg, np.random.default_rng(7), 6, 20, "random")
    b = lg.make_task_stream(cfg, np.random.default_rng(7), 6, 20, "random")
    assert a.events == b.events
    for x, y in zip(a.tasks, b.tasks, strict=True):
        np.testing.assert_array_equal(x.active, y.active)
        np.testing.assert_array_equal(x.demand_factor, y.demand_factor)
    _, i1, l1 = make_instance("small", 5)
    _, i2, l2 = make_instance("small", 5)
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(i1.gain, i2.gain)
    np.testing.assert_array_equal(i1.demand_bits, i2.demand_bits)
    t1 = lg.sample_tasks(cfg, np.random.default_rng(1), 5)
    t2 = lg.sample_tasks(cfg, np.random.default_rng(1), 5)
    assert [t.task_id for t in t1] == list(range(5))
    assert all(np.array_equal(x.active, y.active) for x, y in zip(t1, t2, strict=True))


def test_instance_respects_the_task():
    cfg = lg.preset("small")
    rng = np.random.default_rng(0)
    lay = lg.make_layout(cfg, rng)
    task = lg.base_task(cfg, rng, active_frac=0.5)
    inst, lv = lg.build_instance(cfg, lay, task, rng)
    act = task.receivers_active()
    np.testing.assert_array_equal(inst.active, act)
    assert np.all(inst.demand_bits[~act] == 0) and np.all(inst.demand_bits[act] > 0)
    assert lv.shape == (cfg.J, cfg.K, cfg.T) and lv.min() >= 0 and lv.max() < cfg.fsmc_levels
    assert np.all(inst.gain[~inst.compat] == 0)


@pytest.mark.parametrize(
    "field,value",
    [("n_mt", -1), ("dt_s", 0.0), ("pathloss_exponent", 5.0), ("fsmc_method", "x"),
     ("weight_probs", (0.5, 0.2, 0.1)), ("elevation_deg", (50.0, 40.0)), ("fd_dt", float("nan"))],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        lg.LinkGroupConfig(**{field: value})


def test_stream_rejects_interval_not_multiple_of_T():
    with pytest.raises(ValueError, match="update_interval"):
        lg.make_task_stream(lg.preset("small"), np.random.default_rng(0), 2, 205)


def test_pitch_pattern_and_rain_scale_only_the_leo_links():
    cfg = lg.preset("small")
    rng = np.random.default_rng(0)
    lay = lg.make_layout(cfg, rng)
    task = lg.base_task(cfg, rng)
    g0 = lg.large_scale_gains(cfg, lay, task)
    g_pitch = lg.large_scale_gains(lg.preset("small", pitch_pattern=True, sat_aperture_m=5.0), lay, task)
    from dataclasses import replace

    g_rain = lg.large_scale_gains(cfg, lay, replace(task, chi_db_per_km=3.0))
    leo = lay.compat[0]
    assert np.all(g_pitch[0, leo] <= g0[0, leo]) and np.all(g_pitch[0, leo] > 0)
    off = np.linalg.norm(lay.dev_xy_m[leo], axis=1) > 1.0  # off the boresight (cell centre)
    assert np.all(g_pitch[0, leo][off] < g0[0, leo][off])
    np.testing.assert_array_equal(g_pitch[1:], g0[1:])
    np.testing.assert_array_equal(g_rain[1:], g0[1:])
    # rain loss 3 km x (3.0 - 0.3) dB/km x d/h  ->  at least 8.1 dB more on every LEO link
    extra_db = 10 * np.log10(g0[0, leo] / g_rain[0, leo])
    assert np.all(extra_db >= 8.1 - 1e-9) and np.all(extra_db < 8.1 * 2)
