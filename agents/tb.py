"""TensorBoard event files: drop the points a crashed run wrote after its last checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["truncate_tensorboard", "scalar_steps"]


def scalar_steps(tb_dir: str | os.PathLike[str]) -> dict[str, list[int]]:
    """Steps of every scalar tag in the event files under ``tb_dir`` (tests and checks)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out: dict[str, list[int]] = {}
    for f in sorted(Path(tb_dir).rglob("events.out.tfevents.*")):
        for ev in EventFileLoader(str(f)).Load():
            for v in ev.summary.value:
                out.setdefault(v.tag, []).append(int(ev.step))
    return out


def truncate_tensorboard(tb_dir: str | os.PathLike[str], steps: int) -> int:
    """Rewrite every event file under ``tb_dir`` without the events of step > ``steps``.

    A resumed run writes those steps again; without this, TensorBoard would show two points per
    step.  Each file is rewritten next to itself and swapped in atomically.  Returns the number
    of events dropped.
    """
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.summary.writer.record_writer import RecordWriter

    dropped = 0
    for f in sorted(Path(tb_dir).rglob("events.out.tfevents.*")):
        events = list(EventFileLoader(str(f)).Load())
        keep = [ev for ev in events if ev.step <= steps or ev.HasField("file_version")]
        if len(keep) == len(events):
            continue
        dropped += len(events) - len(keep)
        tmp = f.with_name(f.name + ".tmp")
        with open(tmp, "wb") as fh:
            writer = RecordWriter(fh)
            for ev in keep:
                writer.write(ev.SerializeToString())
            writer.flush()
        os.replace(tmp, f)
    return dropped
