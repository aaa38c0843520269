import math

import numpy as np
import pytest

from leo_env.core.optical import (
    OpticalParams,
    beam_radius_m,
    beam_waist_m,
    effective_rate_bps,
    jitter_threshold_rad,
    rayleigh_range_m,
)

# dujo.md section 2.2: W(z) and r(z) at the five reference distances.
REFERENCE = [
    (100e3, 5.0, 9.40),
    (500e3, 25.0, 4.76),
    (1000e3, 50.0, 2.78),
    (2000e3, 100.0, 0.98),
    (3000e3, 150.0, 0.33),
]


@pytest.mark.parametrize(
    "z_m, w_m, r_gbps", REFERENCE, ids=[f"{z / 1e3:g}km" for z, _, _ in REFERENCE]
)
def test_reference_rates(z_m, w_m, r_gbps):
    p = OpticalParams()
    assert float(beam_radius_m(z_m, p)) == pytest.approx(w_m, rel=1e-3)
    assert float(effective_rate_bps(z_m, p)) / 1e9 == pytest.approx(r_gbps, abs=0.005)


def test_beam_constants():
    p = OpticalParams()
    assert beam_waist_m(p) == pytest.approx(9.87e-3, rel=1e-3)
    # the paper prints 1.97e3 m; pi W0^2 / lambda is 197 m
    assert rayleigh_range_m(p) == pytest.approx(197.35, rel=1e-3)
    assert jitter_threshold_rad(p) * 1e6 == pytest.approx(37.17, abs=0.01)


def test_rate_decreases_with_distance_and_grows_with_power():
    z = np.linspace(50e3, 5000e3, 200)
    r = effective_rate_bps(z)
    assert np.all(np.diff(r) < 0)
    assert np.all(effective_rate_bps(z, OpticalParams(power_w=40.0)) > r)


@pytest.mark.parametrize(
    "field, value",
    [
        ("power_w", 0.0),
        ("aperture_m2", -1.0),
        ("outage", 1.0),
        ("outage", 0.0),
        ("noise_a", math.nan),
    ],
    ids=["power0", "aperture-neg", "outage1", "outage0", "noise-nan"],
)
def test_invalid_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        OpticalParams(**{field: value})


def test_negative_distance_rejected():
    with pytest.raises(ValueError, match="distance_m"):
        effective_rate_bps(-1.0)
