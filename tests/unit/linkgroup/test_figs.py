import pytest

from benchmarks.linkgroup_figs import figures


def _res():
    def row(f, rec, saving=None):
        r = {"mean_F": f, "mean_recovery_slots": rec, "recovered_share": 1.0,
             "recovery_by_event": {"departure": rec}, "time_per_slot_ms": 1.0}
        if saving is not None:
            r["recovery_saving_of_emcl_small_pct"] = saving
            r["recovery_vs_emcl_small"] = {"wilcoxon_p": 0.03}
        return r

    return {
        "policies": ["emcl_small", "emcl_nowolp_small", "grd"],
        "summary": {
            "windows": {"emcl_small": {"time_per_slot_ms": 2.0}},
            "streams": {"emcl_small": row(2.0, 50.0), "emcl_nowolp_small": row(3.0, 60.0, 16.7),
                        "grd": row(4.0, 100.0, 50.0)},
        },
    }


def test_figures_ablation_increase_and_rows():
    fig = figures(_res())
    assert fig["policy"] == "emcl_small"
    assert fig["nowolp_recovery_increase_pct"] == pytest.approx(20.0)
    assert fig["nowolp_objective_increase_pct"] == pytest.approx(50.0)
    rows = {r["policy"]: r for r in fig["rows"]}
    assert rows["grd"]["saving_of_policy_pct"] == 50.0 and rows["grd"]["recovery_p"] == 0.03
    assert rows["emcl_small"]["windows_time_per_slot_ms"] == 2.0
