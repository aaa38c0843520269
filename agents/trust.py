"""What the suite trusts when it loads a model file, and how it checks it.

Trusted input: the YAML configs you pass (plain data, no code, no environment-variable
interpolation), and model files whose SHA-256 is recorded in the run folder that wrote them
(``checksums.json``, written atomically next to every saved model).  A model zip from anywhere
else is untrusted: its ``data`` member holds pickled Python objects that Stable-Baselines3's
``.load()`` would execute.  The suite therefore never calls ``.load()``: it rebuilds the model
from the run's ``config.yaml`` (spaces, schedules and policy class come from the config) and
loads only the tensors (``set_parameters``, ``torch.load(weights_only=True)``), after checking
the digest.  A file whose digest is missing or different is refused unless the user passes
``--trust`` (``trust=True``): then only the tensors are still loaded, never the pickles.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from leo_env.io import atomic_write_json

__all__ = ["CHECKSUMS", "UntrustedModelError", "sha256_of", "record_digest", "verify_digest"]

CHECKSUMS = "checksums.json"
"""File of a run folder mapping model paths (relative to the folder) to their SHA-256."""


class UntrustedModelError(RuntimeError):
    """A model file's SHA-256 is not the one its run folder recorded (or none is recorded)."""


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _key(run_dir: Path, path: Path) -> str:
    return path.resolve().relative_to(run_dir.resolve()).as_posix()


def _read(run_dir: Path) -> dict[str, list[str]]:
    f = run_dir / CHECKSUMS
    if not f.exists():
        return {}
    data = json.loads(f.read_text())
    return {str(k): [str(v)] if isinstance(v, str) else [str(x) for x in v] for k, v in data.items()}


def record_digest(
    run_dir: str | os.PathLike[str],
    path: str | os.PathLike[str],
    digest: str | None = None,
    keep_previous: bool = False,
) -> str:
    """Record the SHA-256 of ``path`` (or ``digest``) in ``run_dir/checksums.json``; returns it.

    ``keep_previous`` keeps the digests already recorded for that path too: a writer records the
    new file's digest *before* swapping it in, then again without ``keep_previous`` after, so a
    crash at any point leaves the file on disk matching a recorded digest.
    """
    rd, p = Path(run_dir), Path(path)
    digests = {k: v for k, v in _read(rd).items() if (rd / k).exists() or k == _key(rd, p)}
    d = digest if digest is not None else sha256_of(p)
    old = digests.get(_key(rd, p), []) if keep_previous else []
    digests[_key(rd, p)] = [*[x for x in old if x != d], d]
    atomic_write_json(rd / CHECKSUMS, {k: v[0] if len(v) == 1 else v for k, v in sorted(digests.items())})
    return d


def verify_digest(path: str | os.PathLike[str], run_dir: str | os.PathLike[str] | None, trust: bool = False) -> None:
    """Refuse a model file whose digest its run folder did not record, unless ``trust``.

    Raises
    ------
    UntrustedModelError
        Naming the file, what was expected and the ``--trust`` flag.
    """
    if trust:
        return
    p = Path(path)
    if run_dir is None:
        raise UntrustedModelError(
            f"{p} is not inside a run folder with {CHECKSUMS}: refusing an unverified model "
            "(pass --trust / trust=True to load its tensors anyway)"
        )
    recorded = _read(Path(run_dir)).get(_key(Path(run_dir), p))
    if not recorded:
        raise UntrustedModelError(
            f"{p}: no SHA-256 recorded in {Path(run_dir) / CHECKSUMS} (pass --trust to load it anyway)"
        )
    actual = sha256_of(p)
    if actual not in recorded:
        raise UntrustedModelError(
            f"{p}: SHA-256 {actual[:16]}... differs from the recorded {recorded[-1][:16]}... "
            "(the file changed after it was saved; pass --trust to load it anyway)"
        )
