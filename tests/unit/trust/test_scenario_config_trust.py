"""Issue 12, findings 2 and 9 (scenario side): every numeric config field is finite and in a
documented range, resolvers that read the environment are refused, errors name the field."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

import leo_env.scenario.config as config_mod
from leo_env.scenario import ConfigError, load_config, make_scenario
from leo_env.scenario.config import ScenarioConfig

# (override, field the message must name) - the reproductions of issue 12, finding 2
BAD_VALUES = [
    ("channel.G_tx_dbi=nan", "channel.G_tx_dbi"),
    ("utility.eps=inf", "utility.eps"),
    ("utility.lambda_h=inf", "utility.lambda_h"),
    ("resources.P_max_w=inf", "resources.P_max_w"),
    ("channel.N0_dbm_per_hz=nan", "channel.N0_dbm_per_hz"),
    ("channel.freq_hz=inf", "channel.freq_hz"),
    ("synthetic.centre_lon_deg=1000", "synthetic.centre_lon_deg"),
    ("channel.G_rx_dbi=-inf", "channel.G_rx_dbi"),
    ("channel.atm_loss_db=nan", "channel.atm_loss_db"),
    ("channel.rician_k_db=inf", "channel.rician_k_db"),
    ("demand.high_rate_bps=inf", "demand.high_rate_bps"),
    ("demand.scale=nan", "demand.scale"),
    ("time.T_f=inf", "time.T_f"),
    ("synthetic.altitude_km=nan", "synthetic.altitude_km"),
    ("synthetic.centre_lat_deg=nan", "synthetic.centre_lat_deg"),
    ("region.lat_min=nan", "region.lat_min"),
    ("constellation.random_epoch_s=inf", "constellation.random_epoch_s"),
    ("max_resamples=1000000000", "max_resamples"),
]


@pytest.mark.parametrize(("override", "field"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_non_finite_or_out_of_range_values_are_refused(override: str, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("toy", [override])
    msg = str(err.value)
    assert field in msg
    assert "must be" in msg  # the allowed range is stated


def _numeric_fields(cls: type, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted path, type name) of every int/float field of a config dataclass tree."""
    hints = typing.get_type_hints(cls)
    out: list[tuple[str, str]] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        if typing.get_origin(tp) is list:
            item = typing.get_args(tp)[0]
            if dataclasses.is_dataclass(item):
                out += _numeric_fields(item, f"{path}[0].")
            continue
        inner = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
        base = inner[0]
        if dataclasses.is_dataclass(base):
            out += _numeric_fields(base, f"{path}.")
        elif base in (int, float):
            out.append((path, base.__name__))
    return out


NUMERIC = _numeric_fields(ScenarioConfig)


def test_every_numeric_field_has_a_documented_range() -> None:
    ranges = config_mod.field_ranges()
    missing = [p for p, _ in NUMERIC if p.replace("[0]", "[i]") not in ranges]
    assert len(NUMERIC) > 50
    assert not missing, f"numeric fields without a range: {missing}"


@pytest.mark.parametrize(("path", "tname"), NUMERIC, ids=[p for p, _ in NUMERIC])
def test_every_numeric_field_refuses_nan_inf_and_huge(path: str, tname: str) -> None:
    cfg = load_config("toy")
    if path.startswith("constellation.shells[0]."):
        parent, leaf = cfg.constellation.shells[0], path.rsplit(".", 1)[1]
    else:
        *heads, leaf = path.split(".")
        parent = cfg
        for h in heads:
            parent = getattr(parent, h)
    bad = [float("nan"), float("inf"), -float("inf"), 1e300] if tname == "float" else [10**30, -(10**30)]
    for value in bad:
        setattr(parent, leaf, value)
        with pytest.raises(ConfigError, match=path.replace("[", r"\[").replace("]", r"\]")):
            load_config(cfg)
        setattr(parent, leaf, _default(path))


def _default(path: str) -> object:
    cfg = ScenarioConfig(name="x")
    if path.startswith("constellation.shells[0]."):
        return getattr(cfg.constellation.shells[0], path.rsplit(".", 1)[1])
    obj: object = cfg
    for h in path.split("."):
        obj = getattr(obj, h)
    return obj


def test_presets_pass_the_ranges() -> None:
    for name in config_mod.preset_names():
        load_config(name)


def test_environment_resolvers_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APEX_TRUST_SECRET", "hunter2")
    with pytest.raises(ConfigError, match="name") as err:
        load_config("toy", ["name=${oc.env:APEX_TRUST_SECRET}"])
    assert "hunter2" not in str(err.value)
    y = tmp_path / "leak.yaml"
    y.write_text("name: leak\ndemand: {scale: '${oc.env:APEX_TRUST_SECRET,1.0}'}\n")
    with pytest.raises(ConfigError, match=r"demand\.scale"):
        load_config(str(y))
    with pytest.raises(ConfigError, match="name"):
        load_config({"name": "${oc.env:APEX_TRUST_SECRET}"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (["constellation.epoch=yesterday"], "constellation.epoch"),
        (["constellation.shells=[{preset: no-such-shell}]"], "constellation.shells[0].preset"),
        (["constellation.shells=[{inclination_deg: 53.0, total: 10, planes: 3, phasing: 0, altitude_km: 550.0}]"],
         "constellation.shells[0]"),
        (["constellation.shells=[{preset: null}]"], "constellation.shells[0].inclination_deg"),
    ],
    ids=["epoch", "shell-preset", "shell-planes", "shell-missing"],
)
def test_orbit_errors_name_the_config_field(overrides: list[str], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("europe-starlink", overrides)
    assert field in str(err.value)


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        (["synthetic.S=50"], ("synthetic.S", "synthetic.mean_visible")),
        (["synthetic.altitude_km=50000"], ("synthetic.altitude_km", "channel.min_elevation_deg")),
        (["channel.bandwidth_hz=1e5"], ("channel.W_PRB", "channel.bandwidth_hz")),
    ],
    ids=["ring-S", "ring-altitude", "prb-bandwidth"],
)
def test_relations_between_fields_name_the_fields(overrides: list[str], fields: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("toy", overrides)
    assert all(f in str(err.value) for f in fields), str(err.value)


def test_orbit_without_any_visible_satellite_is_infeasible_not_a_crash() -> None:
    from leo_env.scenario import InfeasibleScenarioError

    small = ["time.K=2", "region.lat_max=41", "region.lon_max=6"]
    with pytest.raises(InfeasibleScenarioError, match="channel.min_elevation_deg"):
        make_scenario("europe-starlink", overrides=[*small, "channel.min_elevation_deg=89.99"])


def test_cached_scenario_arrays_are_read_only() -> None:
    sc = make_scenario("toy", seed=0)
    for name in ("v", "g", "a", "H", "N_PRB", "P_max", "demand_rate", "min_handovers", "elevation_deg"):
        arr = getattr(sc, name)
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr.flat[0] = arr.flat[0]


def test_cached_orbit_geometry_is_read_only() -> None:
    from leo_env.scenario.build import build_geometry

    small = ["time.K=2", "region.lat_max=42", "region.lon_max=8"]
    sc = make_scenario("europe-starlink", overrides=small)
    geo = build_geometry(load_config("europe-starlink", small), seed=0)  # the lru-cached object
    for arr in (geo.sat_ecef, geo.el_min_deg, geo.inv_d2_mean, geo.cell_ecef, sc.sat_ecef, sc.elevation_deg):
        assert not arr.flags.writeable
    with pytest.raises(ValueError):
        geo.el_min_deg[0, 0, 0] = 90.0
