from pathlib import Path

import pytest
from omegaconf.errors import ConfigKeyError, ValidationError

from agents.config import ROOT, ExperimentConfig, load_experiment, to_yaml

EXPERIMENTS = sorted((ROOT / "configs" / "experiments").glob("*.yaml"))


def test_defaults_and_dotted_overrides():
    cfg = load_experiment(None, ["env.preset=medium", "agent.ppo.learning_rate=1e-4", "evaluate.prediction_errors=[0.05,0.2]"])
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.env.preset == "medium"
    assert cfg.agent.ppo.learning_rate == pytest.approx(1e-4)
    assert cfg.evaluate.prediction_errors == [0.05, 0.2]


def test_unknown_key_and_wrong_type_are_errors():
    with pytest.raises(ConfigKeyError):
        load_experiment(None, ["env.no_such_key=1"])
    with pytest.raises(ValidationError):
        load_experiment(None, ["train.n_envs=many"])
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
