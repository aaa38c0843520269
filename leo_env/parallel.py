"""One backend-neutral parallel map for the suite's embarrassingly parallel work.

Oracle label generation, evaluation shards, oracle benchmarks and dataset generation all run
many independent tasks, each a pure function of a small config (plain data: numbers, strings,
lists, dicts), so they share one map:

>>> from leo_env.parallel import pmap
>>> pmap(pow, [(2, 3), (3, 2)], backend="serial", progress=False)
[8, 9]

Backends:

- ``serial``: in this process (the reference; what tests compare against);
- ``process``: a ``spawn`` process pool on this machine (``workers`` processes), workers exit
  when the parent dies;
- ``ray``: a Ray cluster (``address=None`` starts a local one, ``"auto"`` or
  ``"ray://host:10001"`` joins an existing cluster; ``pip install apex-suite[ray]``).  Ray is
  imported only when this backend is used.

Contract, the same on every backend: results come back in task order; a task that raises is
retried up to ``retries`` times (then the error is raised, naming the task); every worker pins
its numba/BLAS/torch threads to ``threads`` (default 1) so ``workers`` tasks do not
oversubscribe the cores; a progress bar counts finished tasks.  Tasks receive configs, never
built objects, so their results are bit-identical across backends.  Skipping finished work
(shards already on disk) is the caller's job: pass only the tasks still to do.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

__all__ = ["BACKENDS", "pmap", "pin_threads", "exit_with_parent", "TaskError"]

BACKENDS = ("serial", "process", "ray")

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


class TaskError(RuntimeError):
    """A task still failed after its retries (the message names the task index)."""


def pin_threads(threads: int = 1) -> None:
    """Limit this process's numba, BLAS and torch threads (call first thing in a worker)."""
    for var in _THREAD_VARS:
        os.environ[var] = str(int(threads))
    try:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    except (ImportError, ValueError):
        pass
    import sys

    if "torch" in sys.modules:  # never import torch just for this
        sys.modules["torch"].set_num_threads(int(threads))


def exit_with_parent(parent_pid: int, threads: int = 1, interval_s: float = 0.5) -> None:
    """Worker initializer: pin threads, and exit as soon as the parent process is gone.

    A daemon thread polls the parent's pid; when the worker has been re-parented (the parent
    was killed, even with ``kill -9``), it ends the worker at once, so no orphan keeps working.
    """
    pin_threads(threads)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _call(fn: Callable[..., Any], task: tuple[Any, ...], threads: int) -> Any:
    pin_threads(threads)
    return fn(*task)


def pmap(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    backend: str = "process",
    workers: int | None = None,
    address: str | None = None,
    retries: int = 1,
    threads: int = 1,
    desc: str | None = None,
    progress: bool = True,
) -> list[Any]:
    """``[fn(*t) for t in tasks]`` on the chosen backend (see the module docstring).

    Parameters
    ----------
    fn : callable
        A module-level function (picklable by reference).
    tasks : sequence of tuple
        Arguments of each call: plain data only.
    backend : {"serial", "process", "ray"}
        Where to run.
    workers : int, optional
        Processes (``process``; default ``os.cpu_count()``) or concurrent tasks (``ray``; default
        the cluster's CPUs).  ``workers <= 1`` on ``process`` runs serially.
    address : str, optional
        Ray cluster address (``ray`` only; None: a local cluster).
    retries : int
        Extra attempts for a task that raises (0: none).
    threads : int
        Threads per worker for numba, BLAS and torch.
    desc : str, optional
        Progress-bar label.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list
        The results, in task order.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if retries < 0 or threads < 1:
        raise ValueError(f"retries must be >= 0 and threads >= 1, got {retries} and {threads}")
    tasks = list(tasks)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="task", disable=not progress)
    try:
        if backend == "ray":
            return _ray_map(fn, tasks, workers, address, retries, threads, bar)
        n = (os.cpu_count() or 1) if workers is None else int(workers)
        if backend == "serial" or n <= 1 or len(tasks) <= 1:
            return _serial_map(fn, tasks, retries, bar)
        return _process_map(fn, tasks, n, retries, threads, bar)
    finally:
        bar.close()


def _serial_map(fn: Callable[..., Any], tasks: list[tuple[Any, ...]], retries: int, bar: Any) -> list[Any]:
    out = []
    for i, t in enumerate(tasks):
        for attempt in range(retries + 1):
            try:
                out.append(fn(*t))
                break
            except Exception as exc:  # noqa: BLE001 - retried, then re-raised naming the task
                if attempt == retries:
                    raise TaskError(f"task {i} failed after {retries + 1} attempt(s): {exc!r}") from exc
        bar.update(1)
    return out


def _process_map(
    fn: Callable[..., Any], tasks: list[tuple[Any, ...]], workers: int, retries: int, threads: int, bar: Any
) -> list[Any]:
    results: list[Any] = [None] * len(tasks)
    attempts = [0] * len(tasks)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"),
        initializer=exit_with_parent, initargs=(os.getpid(), threads),
    ) as pool:
        pending: dict[Future[Any], int] = {pool.submit(fn, *t): i for i, t in enumerate(tasks)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                exc = fut.exception()
                if exc is None:
                    results[i] = fut.result()
                    bar.update(1)
                elif attempts[i] < retries:
                    attempts[i] += 1
                    pending[pool.submit(fn, *tasks[i])] = i
                else:
                    raise TaskError(f"task {i} failed after {attempts[i] + 1} attempt(s): {exc!r}") from exc
    return results


def _ray_map(
    fn: Callable[..., Any], tasks: list[tuple[Any, ...]], workers: int | None, address: str | None,
    retries: int, threads: int, bar: Any,
) -> list[Any]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("backend='ray' needs Ray: pip install 'apex-suite[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=workers if address is None else None,
                 runtime_env={"env_vars": {v: str(threads) for v in _THREAD_VARS}},
                 include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, max_retries=retries, retry_exceptions=True)(_call)
    refs = [remote.remote(fn, t, threads) for t in tasks]
    index = {r: i for i, r in enumerate(refs)}
    results: list[Any] = [None] * len(tasks)
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for r in done:
            try:
                results[index[r]] = ray.get(r)
            except Exception as exc:  # noqa: BLE001 - Ray wraps the task's error
                raise TaskError(f"task {index[r]} failed after {retries + 1} attempt(s): {exc!r}") from exc
            bar.update(1)
    return results
