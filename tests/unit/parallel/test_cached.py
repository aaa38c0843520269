"""Per-task result files: finished tasks are skipped on rerun, results equal on every backend."""

from __future__ import annotations

import json

import pytest

from leo_env.parallel import TaskError, pmap, pmap_cached, read_cached

from . import tasks


def _ran(log):
    return sorted(int(x) for x in log.read_text().split()) if log.exists() else []


def test_a_rerun_runs_only_the_missing_tasks_and_returns_the_same(tmp_path):
    log = tmp_path / "log.txt"
    t = [(str(log), s) for s in range(4)]
    paths = [tmp_path / "cache" / f"t{s}.json" for s in range(4)]
    keys = [{"seed": s} for s in range(4)]
    first = pmap_cached(tasks.counted, t, paths, keys, backend="serial", progress=False)
    assert _ran(log) == [0, 1, 2, 3]
    assert first[1]["pair"] == [1, first[1]["pair"][1]]  # as read back from JSON
    paths[2].unlink()  # "interrupted" before task 2 finished
    paths[3].write_text("{truncated")  # a torn file is redone, never trusted
    log.unlink()
    again = pmap_cached(tasks.counted, t, paths, keys, backend="serial", progress=False)
    assert _ran(log) == [2, 3]
    assert again == first
    # a changed key (other inputs) reruns the task
    log.unlink()
    keys[0] = {"seed": 0, "version": 2}
    assert pmap_cached(tasks.counted, t, paths, keys, backend="serial", progress=False) == first
    assert _ran(log) == [0]
    assert read_cached(paths[0], {"seed": 0, "version": 2})[0]
    assert not read_cached(paths[0], {"seed": 0})[0]
    assert json.loads(paths[0].read_text())["key"] == {"seed": 0, "version": 2}


def test_chunks_give_the_same_results():
    ref = [tasks.draw(s, 4) for s in range(7)]
    assert pmap(tasks.draw, [(s, 4) for s in range(7)], backend="process", workers=2, chunksize=3,
                progress=False) == ref


def test_bad_cache_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="distinct files"):
        pmap_cached(tasks.draw, [(0, 1), (1, 1)], [tmp_path / "a", tmp_path / "a"], backend="serial")
    with pytest.raises(ValueError, match="workers must be >= 1"):
        pmap(tasks.draw, [(0, 1)], backend="process", workers=0)
    with pytest.raises(ValueError, match="chunksize"):
        pmap(tasks.draw, [(0, 1)], backend="serial", chunksize=0)


def test_ray_cache_and_chunks_equal_serial(ray_cluster, tmp_path):
    log = tmp_path / "log.txt"
    t = [(str(log), s) for s in range(3)]
    ref = pmap_cached(tasks.counted, t, [tmp_path / "s" / f"{s}.json" for s in range(3)], backend="serial",
                      progress=False)
    assert pmap_cached(tasks.counted, t, [tmp_path / "r" / f"{s}.json" for s in range(3)], backend="ray",
                       chunksize=2, progress=False) == ref
    with pytest.raises(TaskError, match=r"tasks 0-1 failed after 1 attempt\(s\)"):
        pmap(tasks.always_fails, [(1,), (2,)], backend="ray", chunksize=2, retries=0, progress=False)
    # a worker that imported numba before pinning its threads can still compile kernels
    assert pmap(tasks.jit_square_sum, [(4,), (5,)], backend="ray", retries=0, progress=False) == [14.0, 30.0]
