from pathlib import Path

import pytest

from agents.config import ROOT, ExperimentConfig, load_experiment, to_yaml
from agents.families import family_of
from leo_env.core.overrides import OverrideError

EXPERIMENTS = sorted(
    p for p in (ROOT / "configs" / "experiments").glob("*.yaml") if family_of(p) == "downlink"
)


def test_defaults_and_dotted_overrides():
    cfg = load_experiment(None, ["env.preset=medium", "agent.ppo.learning_rate=1e-4", "evaluate.prediction_errors=[0.05,0.2]"])
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.env.preset == "medium"
    assert cfg.agent.ppo.learning_rate == pytest.approx(1e-4)
    assert cfg.evaluate.prediction_errors == [0.05, 0.2]


def test_unknown_key_and_wrong_type_are_errors():
    with pytest.raises(OverrideError, match=r"^unknown key 'env.historyy' \(did you mean 'env.history'\?\)"):
        load_experiment(None, ["env.historyy=1"])
    with pytest.raises(OverrideError, match="train.n_envs"):
        load_experiment(None, ["train.n_envs=many"])
    with pytest.raises(OverrideError, match="reads the environment"):
        load_experiment(None, ["name=${oc.env:HOME}"])
    with pytest.raises(ValueError, match="agent.algo"):
        load_experiment(None, ["agent.algo=dqn"])
    with pytest.raises(ValueError, match="env.lookahead"):
        load_experiment(None, ["env.lookahead=-2"])
    with pytest.raises(ValueError, match="agent.labels.expert"):
        load_experiment(None, ["agent.labels.expert=oracle"])


def test_agent_preset_is_merged_under_the_experiment(tmp_path: Path):
    f = tmp_path / "exp.yaml"
    f.write_text("agent:\n  preset: bc_maskable_ppo\n  ppo:\n    n_epochs: 7\n")
    cfg = load_experiment(f)
    assert cfg.agent.algo == "bc_maskable_ppo"
    assert cfg.agent.ppo.n_epochs == 7  # experiment wins over the preset
    assert cfg.agent.ppo.clip_range == pytest.approx(0.1)  # from the preset
    # the CLI wins over both
    assert load_experiment(f, ["agent.ppo.n_epochs=2"]).agent.ppo.n_epochs == 2


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_experiment_config_loads_and_round_trips(path: Path, tmp_path: Path):
    cfg = load_experiment(path)
    f = tmp_path / "config.yaml"
    f.write_text(to_yaml(cfg))
    assert load_experiment(f) == cfg
