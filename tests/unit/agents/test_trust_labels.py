"""Trust findings of label generation: orphan workers, unreadable shards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from agents.labels import generate_labels, labels_for, load_labels, shard_path

from .conftest import tiny_config

ROOT = Path(__file__).resolve().parents[3]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and kill -9")
def test_workers_exit_when_the_parent_is_killed(tmp_path):
    pidfile = tmp_path / "worker.pid"
    script = textwrap.dedent(f"""
        import os, time
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context
        from leo_env.parallel import exit_with_parent

        def task(path):
            open(path, "w").write(str(os.getpid()))
            time.sleep(60)

        if __name__ == "__main__":
            with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=exit_with_parent,
                                     initargs=(os.getpid(),)) as pool:
                pool.submit(task, {str(pidfile)!r}).result()
    """)
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], cwd=ROOT)
    try:
        for _ in range(600):
            if pidfile.exists() and pidfile.read_text():
                break
            time.sleep(0.1)
        worker = int(pidfile.read_text())
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        for _ in range(50):
            if not _alive(worker):
                break
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived its killed parent"
    finally:
        parent.kill()


def test_a_truncated_shard_is_named_and_regenerated(tmp_path):
    cfg = tiny_config(tmp_path)
    lab = cfg.agent.labels
    directory = generate_labels(cfg.env, lab, progress=False)
    good = load_labels(directory)
    victim = shard_path(directory, 1)
    victim.write_bytes(victim.read_bytes()[:10])  # a kill during a copy, a full disk, ...
    with pytest.raises(ValueError, match=rf"label shard {victim} is unreadable"):
        load_labels(directory)
    with pytest.warns(RuntimeWarning, match=rf"label shard {victim} is unreadable"):
        again = labels_for(cfg.env, lab, progress=False)
    np.testing.assert_array_equal(again.label, good.label)
    victim.write_bytes(b"")  # empty file
    with pytest.warns(RuntimeWarning, match="unreadable"):
        generate_labels(cfg.env, lab, progress=False)
    np.testing.assert_array_equal(load_labels(directory).label, good.label)


def test_labels_are_the_same_on_every_backend(tmp_path, ray_cluster):
    from dataclasses import replace

    cfg = tiny_config(tmp_path)
    lab = replace(cfg.agent.labels, n_seeds=2, shard_size=1)
    serial = labels_for(cfg.env, replace(lab, backend="serial", cache_dir=str(tmp_path / "s")), progress=False)
    on_ray = labels_for(cfg.env, replace(lab, backend="ray", cache_dir=str(tmp_path / "r")), progress=False)
    for field in ("obs", "mask", "label", "reward", "seed", "slot"):
        np.testing.assert_array_equal(getattr(serial, field), getattr(on_ray, field))
