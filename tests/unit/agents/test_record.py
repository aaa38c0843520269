"""``python -m agents.record``: one episode as a GIF, the same episode ``evaluate.py`` plays."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from agents.config import load_experiment
from agents.envs import make_env
from agents.evaluation import baseline_spec, play
from agents.record import main, record_episode

CFG = """\
name: rec
env: {preset: toy, allocator: equal, predictor: noisy-truth, prediction_error: 0.1}
"""


@pytest.fixture
def cfg_path(tmp_path: Path) -> str:
    p = tmp_path / "rec.yaml"
    p.write_text(CFG)
    return str(p)


def test_gif_has_one_frame_per_slot_and_the_evaluated_return(cfg_path: str, tmp_path: Path) -> None:
    out = tmp_path / "b0.gif"
    res = record_episode("b0", out, config=cfg_path, seed=2, fps=5)
    cfg = load_experiment(cfg_path)
    K = 10  # noqa: N806 - toy preset
    with Image.open(out) as im:
        assert im.n_frames == K + 1 == res["frames"]
        assert im.info["duration"] == 200
    env = make_env(cfg.env, seed_split="eval")
    ref = play(baseline_spec("b0", cfg.evaluate.b1, cfg.evaluate.b2).make(), env, 2)
    assert res["utility"] == pytest.approx(ref["utility"], rel=1e-12)
    assert res["handovers"] == ref["handovers_total"]


def test_png_strip_and_cli(cfg_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "strip.png"
    assert main(["b0", "--config", cfg_path, "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.width > 5 * im.height  # 11 frames side by side
    assert "B0: 11 frames" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"fps": 0.0}, "fps must be"), ({"seed": -1}, "seed must be >= 0"), ({"out_name": "x.mp4"}, "out must end")],
    ids=["fps", "seed", "suffix"],
)
def test_bad_input_names_the_argument(cfg_path: str, tmp_path: Path, kwargs: dict, match: str) -> None:
    out = tmp_path / kwargs.pop("out_name", "x.gif")
    with pytest.raises(ValueError, match=match):
        record_episode("b0", out, config=cfg_path, **kwargs)
    assert not out.exists()


def test_unknown_policy_is_refused(cfg_path: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="neither b0/b1/b2"):
        record_episode("no_such_run", tmp_path / "x.gif", config=cfg_path)
