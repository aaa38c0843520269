"""Invalid inputs of the P1 oracle raise ValueError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from oracles.p1 import solve, solve_batch

BASE = {
    "x": np.array([[1.0, 0.0], [0.0, 1.0]]),
    "a": np.full((2, 3), 1e4),
    "g": np.full((2, 2), 1e-15),
    "N_PRB": 100.0,
    "P_max": 10.0,
    "W_PRB": 180e3,
    "N0": 4e-21,
    "T_f": 1e-3,
}

BAD = [
    ("x-shape", {"x": np.ones(2)}, "x"),
    ("x-nonbinary", {"x": np.array([[0.5, 0.0], [0.0, 1.0]])}, "x"),
    ("x-nan", {"x": np.array([[np.nan, 0.0], [0.0, 1.0]])}, "x"),
    ("x-two-satellites", {"x": np.ones((2, 2))}, "x"),
    ("a-shape", {"a": np.ones((3, 3))}, "a"),
    ("a-negative", {"a": -np.ones((2, 3))}, "a"),
    ("a-nan", {"a": np.full((2, 3), np.nan)}, "a"),
    ("a-inf", {"a": np.full((2, 3), np.inf)}, "a"),
    ("g-shape", {"g": np.ones((2, 3))}, "g"),
    ("g-fading-shape", {"g": np.ones((2, 2, 4))}, "g"),
    ("g-negative", {"g": -np.ones((2, 2))}, "g"),
    ("g-inf", {"g": np.full((2, 2), np.inf)}, "g"),
    ("N-zero", {"N_PRB": 0.0}, "N_PRB"),
    ("N-shape", {"N_PRB": np.ones(3)}, "N_PRB"),
    ("P-negative", {"P_max": -1.0}, "P_max"),
    ("P-nan", {"P_max": np.nan}, "P_max"),
    ("W-zero", {"W_PRB": 0.0}, "W_PRB"),
    ("N0-negative", {"N0": -1e-21}, "N0"),
    ("Tf-inf", {"T_f": np.inf}, "T_f"),
    ("eps-zero", {"eps": 0.0}, "eps"),
    ("eps-negative", {"eps": -1e-3}, "eps"),
    ("w-shape", {"w": np.ones(3)}, "w"),
    ("w-zero", {"w": np.array([1.0, 0.0])}, "w"),
    ("w-nan", {"w": np.array([1.0, np.nan])}, "w"),
    ("method", {"method": "simplex"}, "method"),
    ("integer_prb", {"integer_prb": "yes"}, "integer_prb"),
    ("option", {"bogus_option": 1}, "solver_options"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_invalid_input_names_argument(case):
    _, override, name = case
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        solve(**{**BASE, **override})


def test_batch_shapes_are_checked():
    x = np.stack([BASE["x"]] * 2)
    a = np.stack([BASE["a"]] * 3)
    with pytest.raises(ValueError, match=r"^a\b"):
        solve_batch(x, a, np.stack([BASE["g"]] * 2), **{k: BASE[k] for k in list(BASE)[3:]})
    with pytest.raises(ValueError, match=r"^N_PRB\b"):
        solve_batch(
            x,
            a[:2],
            np.stack([BASE["g"]] * 2),
            **{**{k: BASE[k] for k in list(BASE)[3:]}, "N_PRB": np.ones((3, 2))},
        )


def test_cell_without_satellite_is_allowed():
    res = solve(**{**BASE, "x": np.array([[1.0, 0.0], [0.0, 0.0]])})
    assert res.no_satellite.tolist() == [False, True] and res.xi[1] == 0.0
