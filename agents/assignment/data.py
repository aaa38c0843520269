"""Tensors and splits of the primary-assignment dataset for the torch models.

Each sample is one epoch.  :class:`AssignmentTensors` holds, for T epochs, N clusters and
``M = n_max`` ranked satellites:

| field | shape | meaning |
|---|---|---|
| ``elev`` | (T, N, M) | elevation at the cluster centres [deg], 0 for absent satellites |
| ``elev_min`` | (T, N, M) | minimum elevation over the cluster's cells [deg], -90 absent |
| ``avail`` | (T, M) | satellite ``m`` is in the ranked list |
| ``sat_latlon`` | (T, M, 2) | latitude, longitude of the satellites, min-max scaled to [-1, 1] on the training split, 0 absent |
| ``centre_latlon`` | (N, 2) | cluster centres, scaled the same way (constant inputs of the MLPs) |
| ``label`` | (T, N) | rank index of the serving satellite |
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from leo_env.datasets.primary_assignment import PrimaryAssignmentData

__all__ = ["AssignmentTensors", "split_indices", "to_tensors", "Scaler"]


@dataclass(frozen=True)
class Scaler:
    """Min-max scaling of latitude and longitude to [-1, 1] (fitted on the training epochs)."""

    lat_lo: float
    lat_hi: float
    lon_lo: float
    lon_hi: float

    @classmethod
    def fit(cls, data: PrimaryAssignmentData, idx: np.ndarray) -> Scaler:
        """Ranges of the available satellites' and the cluster centres' coordinates."""
        lla = data["sat_lla"][idx]
        avail = np.arange(lla.shape[1])[None, :] < data["n_avail"][idx][:, None]
        lat = np.concatenate([lla[..., 0][avail], data.static["centre_lat_deg"]])
        lon = np.concatenate([lla[..., 1][avail], data.static["centre_lon_deg"]])
        return cls(float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max()))

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Scaled (lat, lon) stacked on a last axis."""
        a = 2.0 * (lat - self.lat_lo) / max(self.lat_hi - self.lat_lo, 1e-9) - 1.0
        b = 2.0 * (lon - self.lon_lo) / max(self.lon_hi - self.lon_lo, 1e-9) - 1.0
        return np.stack([a, b], axis=-1).astype(np.float32)


@dataclass(frozen=True)
class AssignmentTensors:
    """Model inputs and labels of a set of epochs (see the module table)."""

    elev: torch.Tensor
    elev_min: torch.Tensor
    avail: torch.Tensor
    sat_latlon: torch.Tensor
    centre_latlon: torch.Tensor
    label: torch.Tensor
    epoch_index: np.ndarray

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def batch(self, idx: torch.Tensor | np.ndarray) -> dict[str, torch.Tensor]:
        """Inputs of the epochs ``idx`` (a dict the models read)."""
        i = torch.as_tensor(idx)
        return {
            "elev": self.elev[i],
            "elev_min": self.elev_min[i],
            "avail": self.avail[i],
            "sat_latlon": self.sat_latlon[i],
            "centre_latlon": self.centre_latlon.expand(len(i), -1, -1),
        }


def to_tensors(data: PrimaryAssignmentData, idx: np.ndarray, scaler: Scaler) -> AssignmentTensors:
    """Tensors of the epochs ``idx`` of ``data``."""
    a = data.arrays
    n_avail = a["n_avail"][idx]
    m = a["elev_cluster"].shape[2]
    avail = np.arange(m)[None, :] < n_avail[:, None]
    lla = a["sat_lla"][idx]
    sat_ll = scaler(lla[..., 0], lla[..., 1]) * avail[..., None]
    centre = scaler(data.static["centre_lat_deg"], data.static["centre_lon_deg"])
    return AssignmentTensors(
        elev=torch.from_numpy(a["elev_cluster"][idx].astype(np.float32)),
        elev_min=torch.from_numpy(a["elev_min"][idx].astype(np.float32)),
        avail=torch.from_numpy(avail),
        sat_latlon=torch.from_numpy(sat_ll),
        centre_latlon=torch.from_numpy(centre)[None],
        label=torch.from_numpy(a["label"][idx].astype(np.int64)),
        epoch_index=np.asarray(idx),
    )


def split_indices(
    n_epochs: int, split: str, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test epoch indices.

    ``chronological`` (and ``new-region``, whose test epochs come from another region's
    dataset over the same time span): the first ``1 - val - test`` of the time span trains, the
    next ``val`` validates, the last ``test`` tests.  ``random``: a seeded permutation cut in
    the same proportions (the paper's reading; neighbouring 15 s epochs are nearly identical,
    so it leaks).
    """
    if split not in ("chronological", "random", "new-region"):
        raise ValueError(f"split must be chronological, random or new-region, got {split!r}")
    n_test = int(round(test_fraction * n_epochs))
    n_val = int(round(val_fraction * n_epochs))
    n_train = n_epochs - n_val - n_test
    if min(n_train, n_val, n_test) < 1:
        raise ValueError(f"{n_epochs} epochs are too few for the split fractions")
    order = np.arange(n_epochs)
    if split == "random":
        order = np.random.default_rng(seed).permutation(n_epochs)
    return (
        np.sort(order[:n_train]),
        np.sort(order[n_train : n_train + n_val]),
        np.sort(order[n_train + n_val :]),
    )
