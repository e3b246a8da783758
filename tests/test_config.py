"""Config files: types, unknown keys, overrides, and the shipped seed configs."""
from pathlib import Path

import pytest

from iqa_keras.config import ConfigError, apply_override, config_from_dict, load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_name_the_embedded_set():
    config = config_from_dict({})
    assert [d.name for d in config.data.datasets] == ["embedded"]
    assert config.train.monitor == "val_main"


def test_typo_in_a_key_is_named_with_the_file(tmp_path):
    path = _write(tmp_path, "[train]\nepochz = 3\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message and "train.epochz" in message and "epochs" in message


def test_wrong_type_and_unknown_section_and_hyper_parameter(tmp_path):
    with pytest.raises(ConfigError, match=r"train.batch_size: expected int, got '16'"):
        load_config(_write(tmp_path, '[train]\nbatch_size = "16"\n'))
    with pytest.raises(ConfigError, match=r"\[trian\]: unknown section"):
        load_config(_write(tmp_path, "[trian]\nepochs = 3\n"))
    with pytest.raises(ConfigError, match=r"model.nfz: unknown hyper-parameter of fr_simple"):
        load_config(_write(tmp_path, '[model]\narchitecture = "fr_simple"\nnfz = [1]\n'))
    with pytest.raises(ConfigError, match=r"data.datasets\[0\].crop: expected one of"):
        load_config(_write(tmp_path, '[[data.datasets]]\nname = "embedded"\ncrop = "middle"\n'))
    with pytest.raises(ConfigError, match=r"model.architecture: unknown architecture 'fr_nope'"):
        load_config(_write(tmp_path, '[model]\narchitecture = "fr_nope"\n'))
    with pytest.raises(ConfigError, match=r"data.datasets\[1\].name: unknown dataset 'tid2020'; known: .*tid2013"):
        load_config(_write(tmp_path, '[[data.datasets]]\nname = "embedded"\n[[data.datasets]]\nname = "tid2020"\n'))


def test_overrides_are_typed_and_checked(tmp_path):
    path = _write(tmp_path, "[train]\nepochs = 30\n")
    config = load_config(path, ["train.epochs=3", "model.architecture=fr_bn", "optimizer.learning_rate=1e-3",
                                "data.datasets.0.root=/x"])
    assert config.train.epochs == 3 and config.model.architecture == "fr_bn"
    assert config.optimizer.learning_rate == pytest.approx(1e-3)
    assert config.data.datasets[0].root == "/x"
    assert "--set train.epochs=3" in config.text
    with pytest.raises(ConfigError, match="train.epochs: expected int"):
        load_config(path, ["train.epochs=three"])
    raw = {}
    apply_override(raw, "model.l2=[0, 0.01]")
    assert raw == {"model": {"l2": [0, 0.01]}}


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("**/*.toml")), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_shipped_config_parses(path):
    config = load_config(path)
    assert config.train.epochs > 0


# the NTIRE 2021 configurations: today's, and the reference profile (configs/reference/)
SEED_CONFIGS = sorted(CONFIGS.glob("fr_*.toml")) + sorted((CONFIGS / "reference").glob("fr_*.toml"))


@pytest.mark.parametrize("path", SEED_CONFIGS, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_seed_config_builds_model_and_pipeline_on_fixtures(path, tmp_path):
    """Each seed config, with its dataset roots pointed at fixtures, builds model and data."""
    import tomllib

    import keras
    from helpers import WRITERS
    from iqa_keras.training import build_compiled_model, make_pipelines, prepare_data

    raw = tomllib.loads(path.read_text())
    overrides = []
    for index, dataset in enumerate(raw["data"]["datasets"]):
        root = WRITERS[dataset["name"]](tmp_path / dataset["name"])
        overrides.append(f"data.datasets.{index}.root={root}")
    overrides.append("train.initial_weights=''")  # the earlier stage's run does not exist here
    config = load_config(path, overrides)
    config.train.initial_weights = None
    data = prepare_data(config)
    assert set(data.records) >= {"train", "val"}
    (ref, dist), y = next(iter(make_pipelines(config, data)["train"]))
    assert ref.shape[1:] == (288, 288, 3) and dist.shape == ref.shape and y.shape[1] == 1
    model = build_compiled_model(config)
    assert model.name == config.model.architecture
    assert isinstance(model.loss, keras.losses.Loss)
    keras.backend.clear_session()
