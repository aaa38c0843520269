"""Dataset shards computed by parallel workers: the same arrays as the serial generator."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from leo_env.datasets import primary_assignment as pa

SMALL = replace(pa.PRESETS["gsl-ci"], name="small", duration_s=20 * 60.0, shard_epochs=30)


def test_process_workers_write_the_serial_shards(tmp_path):
    ref = pa.load(SMALL, tmp_path / "serial", progress=False)
    folder = pa.generate(SMALL, tmp_path / "proc", progress=False, backend="process", workers=2, max_shards=2)
    assert len(list(folder.glob("shard_*.npz"))) == 2 and not (folder / "complete.json").exists()
    pa.generate(SMALL, tmp_path / "proc", progress=False, backend="process", workers=2)  # the last shard only
    got = pa.load(SMALL, tmp_path / "proc", generate_missing=False, progress=False)
    assert got.arrays.keys() == ref.arrays.keys() and got.n_epochs == 80
    for k, v in ref.arrays.items():
        np.testing.assert_array_equal(got.arrays[k], v, err_msg=k)
