"""The backend-neutral parallel map: same results in task order, retries, pinning."""

from __future__ import annotations

import pytest

from leo_env.parallel import TaskError, pmap

from . import tasks

TASKS = [(s, 5) for s in range(6)]


def test_serial_and_process_give_the_same_results_in_order():
    ref = [tasks.draw(*t) for t in TASKS]
    assert pmap(tasks.draw, TASKS, backend="serial", progress=False) == ref
    assert pmap(tasks.draw, TASKS, backend="process", workers=2, progress=False) == ref


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_a_task_that_fails_once_is_retried(tmp_path, backend):
    out = pmap(tasks.flaky, [(str(tmp_path / f"m{i}"), i) for i in range(3)], backend=backend, workers=2,
               retries=1, progress=False)
    assert out == [0, 2, 4]


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_a_task_that_keeps_failing_is_named(backend):
    with pytest.raises(TaskError, match=r"task [01] failed after 2 attempt\(s\): ValueError"):
        pmap(tasks.always_fails, [(1,), (2,)], backend=backend, workers=2, retries=1, progress=False)


def test_workers_pin_their_threads():
    assert pmap(tasks.threads_seen, [(), ()], backend="process", workers=2, threads=1, progress=False) == ["1", "1"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="backend must be one of serial, process, ray"):
        pmap(tasks.draw, TASKS, backend="dask")
    with pytest.raises(ValueError, match="retries"):
        pmap(tasks.draw, TASKS, backend="serial", retries=-1)


def test_ray_equals_serial_and_retries(ray_cluster, tmp_path):
    ref = pmap(tasks.draw, TASKS, backend="serial", progress=False)
    assert pmap(tasks.draw, TASKS, backend="ray", progress=False) == ref
    out = pmap(tasks.flaky, [(str(tmp_path / f"r{i}"), i) for i in range(3)], backend="ray", retries=1,
               progress=False)
    assert out == [0, 2, 4]
    with pytest.raises(TaskError, match="task 0 failed"):
        pmap(tasks.always_fails, [(1,)], backend="ray", retries=1, progress=False)
