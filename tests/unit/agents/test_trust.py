"""Trust findings on the agents side (issue: model files, run folders, proto-actions)."""

from __future__ import annotations

import base64
import json
import pickle
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from agents.callbacks import save_model
from agents.config import to_yaml
from agents.policies import load_agent_policy
from agents.registry import build_model
from agents.runs import make_run_dir
from agents.trust import CHECKSUMS, UntrustedModelError
from agents.vec_env import make_vec_env

from .conftest import tiny_config


class _Exploit:
    """Unpickling this creates ``marker`` (what a hostile model file could do instead)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).touch, ())


def _saved_run(tmp_path: Path) -> tuple[Path, Path]:
    cfg = tiny_config(tmp_path, "agent.algo=maskable_ppo")
    run = make_run_dir(cfg)
    (run / "config.yaml").write_text(to_yaml(cfg))
    base, env = make_vec_env(cfg, num_envs=1)
    model = build_model(cfg, env, base.layout)
    return run, save_model(model, run / "best_model.zip")


def _poison(zpath: Path, marker: Path) -> None:
    """Replace the pickled observation space in the zip's ``data`` with an exploit."""
    with zipfile.ZipFile(zpath) as z:
        members = {n: z.read(n) for n in z.namelist()}
    data = json.loads(members["data"])
    payload = base64.b64encode(pickle.dumps(_Exploit(str(marker)))).decode()
    data["observation_space"][":serialized:"] = payload
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(zpath, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)


def test_saved_models_have_their_digest_recorded(tmp_path):
    run, zpath = _saved_run(tmp_path)
    digests = json.loads((run / CHECKSUMS).read_text())
    assert list(digests) == ["best_model.zip"] and len(digests["best_model.zip"]) == 64
    pol = load_agent_policy(run)  # verified, rebuilt from the config, tensors only
    assert pol.name.startswith("B4")


def test_a_poisoned_model_is_refused_and_never_unpickled(tmp_path):
    from sb3_contrib import MaskablePPO

    run, zpath = _saved_run(tmp_path)
    marker = tmp_path / "pwned"
    _poison(zpath, marker)
    with pytest.raises(UntrustedModelError, match="SHA-256"):
        load_agent_policy(run)
    assert not marker.exists()
    # --trust still loads tensors only: the pickled entries are never executed
    pol = load_agent_policy(run, trust=True)
    assert pol is not None and not marker.exists()
    # what SB3's own load() does with the same file (the attack the safe path avoids)
    try:
        MaskablePPO.load(str(zpath))
    except Exception:  # noqa: BLE001 - the exploit object is not a space; it ran before that
        pass
    assert marker.exists()


def test_a_bare_zip_outside_a_run_folder_needs_trust(tmp_path):
    run, zpath = _saved_run(tmp_path)
    loose = tmp_path / "loose.zip"
    loose.write_bytes(zpath.read_bytes())
    with pytest.raises(FileNotFoundError):  # no config to rebuild the model from
        load_agent_policy(loose, trust=True)
    (run / CHECKSUMS).unlink()
    with pytest.raises(UntrustedModelError, match="no SHA-256 recorded"):
        load_agent_policy(run)


def test_runs_started_in_the_same_second_get_distinct_folders(tmp_path):
    cfg = tiny_config(tmp_path)
    made: list[Path] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            made.append(make_run_dir(cfg, when=1_700_000_000.0))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(made)) == 24 and all(p.is_dir() for p in made)


def test_nan_proto_actions_are_refused_not_mapped_to_masked_actions():
    from leo_env.wrappers.wolpertinger import WolpertingerMapper, k_nearest_actions

    mask = np.array([[True, False, True], [False, True, True]])
    mapper = WolpertingerMapper(3, "onehot")
    proto = np.full((2, mapper.dim), np.nan)
    with pytest.raises(ValueError, match="finite"):
        mapper(proto, mask, k=3)
    costs = np.array([[np.nan, 0.0, 1.0], [0.0, 0.5, np.inf]])
    with pytest.raises(ValueError, match="finite"):
        k_nearest_actions(costs, mask, 2)
    ok, _ = mapper(np.zeros((2, mapper.dim)), mask, k=3)
    assert all(mask[np.arange(2), a].all() for a in ok)
