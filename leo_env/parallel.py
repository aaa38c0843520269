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
built objects, so their results are bit-identical across backends.  ``chunksize`` sends
consecutive tasks to a worker as one call (fewer round trips; a chunk is retried as a whole).

Skipping finished work: :func:`pmap_cached` gives every task a result file (JSON, written
atomically by the worker that ran it, with a key describing the task's inputs); a rerun runs
only the tasks whose file is missing, unreadable or has another key, so an interrupted run
resumes where it stopped on any backend.  Callers with their own shard files (label shards,
dataset shards) pass only the tasks still to do to :func:`pmap`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

__all__ = ["BACKENDS", "pmap", "pmap_cached", "read_cached", "pin_threads", "exit_with_parent", "TaskError"]

BACKENDS = ("serial", "process", "ray")

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


class TaskError(RuntimeError):
    """A task still failed after its retries (the message names the task index)."""


def pin_threads(threads: int = 1) -> None:
    """Limit this process's numba, BLAS and torch threads (call first thing in a worker).

    ``NUMBA_NUM_THREADS`` is only exported while numba is not imported yet: numba refuses a
    changed value once its thread pool runs (a Ray worker imports numba when it unpickles the
    task's function, before this runs); ``numba.set_num_threads`` limits it either way.
    """
    import sys

    for var in _THREAD_VARS:
        if var != "NUMBA_NUM_THREADS" or "numba" not in sys.modules:
            os.environ[var] = str(int(threads))
    try:
        import numba

        numba.set_num_threads(max(1, min(int(threads), int(getattr(numba.config, "NUMBA_NUM_THREADS", 1)))))
    except (ImportError, ValueError):
        pass
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


def _call_chunk(fn: Callable[..., Any], chunk: list[tuple[Any, ...]], threads: int) -> list[Any]:
    pin_threads(threads)
    return [fn(*t) for t in chunk]


def _chunks(n: int, size: int) -> list[range]:
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


def _name(r: range) -> str:
    return f"task {r.start}" if len(r) == 1 else f"tasks {r.start}-{r.stop - 1}"


def pmap(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    backend: str = "process",
    workers: int | None = None,
    address: str | None = None,
    retries: int = 1,
    threads: int = 1,
    chunksize: int = 1,
    desc: str | None = None,
    progress: bool = True,
    done: int = 0,
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
        Processes (``process``; default ``os.cpu_count()``) or CPUs of a local Ray cluster
        (``ray``; default all of the machine's).  ``workers <= 1`` on ``process`` runs serially.
    address : str, optional
        Ray cluster address (``ray`` only; None: a local cluster).
    retries : int
        Extra attempts for a task (a chunk) that raises (0: none).
    threads : int
        Threads per worker for numba, BLAS and torch.
    chunksize : int
        Consecutive tasks sent to a worker as one call (``process`` and ``ray``).
    desc : str, optional
        Progress-bar label.
    progress : bool
        Show a progress bar.
    done : int
        Tasks already finished elsewhere (cached): the bar starts there.

    Returns
    -------
    list
        The results, in task order.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if retries < 0 or threads < 1 or chunksize < 1:
        raise ValueError(
            f"retries must be >= 0, threads >= 1 and chunksize >= 1, got {retries}, {threads} and {chunksize}"
        )
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    tasks = list(tasks)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks) + done, initial=done, desc=desc, unit="task", disable=not progress)
    try:
        if backend == "ray":
            return _ray_map(fn, tasks, workers, address, retries, threads, chunksize, bar)
        n = (os.cpu_count() or 1) if workers is None else int(workers)
        if backend == "serial" or n <= 1 or len(tasks) <= 1:
            return _serial_map(fn, tasks, retries, bar)
        return _process_map(fn, tasks, n, retries, threads, chunksize, bar)
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
    fn: Callable[..., Any], tasks: list[tuple[Any, ...]], workers: int, retries: int, threads: int,
    chunksize: int, bar: Any,
) -> list[Any]:
    results: list[Any] = [None] * len(tasks)
    chunks = _chunks(len(tasks), chunksize)
    attempts = [0] * len(chunks)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"),
        initializer=exit_with_parent, initargs=(os.getpid(), threads),
    ) as pool:

        def submit(c: int) -> Future[Any]:
            return pool.submit(_call_chunk, fn, [tasks[i] for i in chunks[c]], threads)

        pending: dict[Future[Any], int] = {submit(c): c for c in range(len(chunks))}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                c = pending.pop(fut)
                exc = fut.exception()
                if exc is None:
                    for i, r in zip(chunks[c], fut.result(), strict=True):
                        results[i] = r
                    bar.update(len(chunks[c]))
                elif attempts[c] < retries:
                    attempts[c] += 1
                    pending[submit(c)] = c
                else:
                    for f in pending:
                        f.cancel()
                    raise TaskError(
                        f"{_name(chunks[c])} failed after {attempts[c] + 1} attempt(s): {exc!r}"
                    ) from exc
    return results


def _ray_map(
    fn: Callable[..., Any], tasks: list[tuple[Any, ...]], workers: int | None, address: str | None,
    retries: int, threads: int, chunksize: int, bar: Any,
) -> list[Any]:
    import importlib

    try:  # by name: the layers below the envs may use pmap without depending on Ray
        ray = importlib.import_module("ray")
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("backend='ray' needs Ray: pip install 'apex-suite[ray]'") from exc
    if not ray.is_initialized():
        # no runtime_env: a task's runtime_env makes Ray start dedicated workers instead of the
        # prestarted ones (seconds on a small machine); each task pins its threads itself, and
        # Ray sets OMP_NUM_THREADS to the task's num_cpus (1) in its workers anyway
        ray.init(address=address, num_cpus=workers if address is None else None,
                 include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, max_retries=retries, retry_exceptions=True)(_call_chunk)
    chunks = _chunks(len(tasks), chunksize)
    fn_ref = ray.put(fn)
    refs = [remote.remote(fn_ref, [tasks[i] for i in r], threads) for r in chunks]
    index = {r: c for c, r in enumerate(refs)}
    results: list[Any] = [None] * len(tasks)
    pending = list(refs)
    while pending:
        finished, pending = ray.wait(pending, num_returns=1)
        for ref in finished:
            c = index[ref]
            try:
                out = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - Ray wraps the task's error
                for p in pending:
                    ray.cancel(p)
                raise TaskError(f"{_name(chunks[c])} failed after {retries + 1} attempt(s): {exc!r}") from exc
            for i, r in zip(chunks[c], out, strict=True):
                results[i] = r
            bar.update(len(chunks[c]))
    return results


# ---------------------------------------------------------------------------------------------
# per-task result files: finished tasks are skipped on rerun


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple | set):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _canonical(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists, numpy scalars plain numbers)."""
    return json.loads(json.dumps(obj, default=_jsonable))


def read_cached(path: str | os.PathLike[str], key: Any) -> tuple[bool, Any]:
    """``(True, result)`` when ``path`` holds a result written for ``key``, else ``(False, None)``."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False, None
    if not isinstance(data, dict) or "result" not in data or data.get("key") != _canonical(key):
        return False, None
    return True, data["result"]


def _cached_call(fn: Callable[..., Any], path: str, key: Any, *task: Any) -> Any:
    """Worker side of :func:`pmap_cached`: run, write the result file atomically, return it."""
    from leo_env.io import atomic_write_text

    text = json.dumps({"key": key, "result": fn(*task)}, default=_jsonable)
    atomic_write_text(path, text)
    return json.loads(text)["result"]


def pmap_cached(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    paths: Sequence[str | os.PathLike[str]],
    keys: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[Any]:
    """:func:`pmap` with one result file per task; tasks already done are not run again.

    Task ``i``'s result (JSON-serialisable; numpy scalars and arrays become numbers and lists)
    is written atomically to ``paths[i]`` by the worker that computed it, together with
    ``keys[i]`` (default: the task's arguments).  A later call reads every file whose key still
    matches and runs only the other tasks.  Fresh and cached results are returned in the same
    form (as read back from JSON), so a resumed run equals an uninterrupted one.

    Parameters
    ----------
    fn, tasks : see :func:`pmap`
    paths : sequence of path
        Result file of each task (distinct).
    keys : sequence, optional
        JSON-serialisable description of each task's inputs.
    **kwargs
        Passed to :func:`pmap` (``backend``, ``workers``, ``address``, ``desc``, ...).
    """
    tasks = list(tasks)
    paths = [str(p) for p in paths]
    if len(paths) != len(tasks) or len(set(paths)) != len(paths):
        raise ValueError(f"paths must name {len(tasks)} distinct files, one per task, got {len(paths)}")
    keys = [list(t) for t in tasks] if keys is None else list(keys)
    if len(keys) != len(tasks):
        raise ValueError(f"keys must have one entry per task ({len(tasks)}), got {len(keys)}")
    keys = [_canonical(k) for k in keys]
    results: list[Any] = [None] * len(tasks)
    todo = []
    for i, (p, k) in enumerate(zip(paths, keys, strict=True)):
        hit, res = read_cached(p, k)
        if hit:
            results[i] = res
        else:
            todo.append(i)
    for p in {os.path.dirname(paths[i]) for i in todo}:
        os.makedirs(p or ".", exist_ok=True)
    fresh = pmap(_cached_call, [(fn, paths[i], keys[i], *tasks[i]) for i in todo],
                 done=len(tasks) - len(todo), **kwargs)
    for i, r in zip(todo, fresh, strict=True):
        results[i] = r
    return results
