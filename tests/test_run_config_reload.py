"""A run folder's config.toml is the effective config: loading it applies the ``--set`` values it records."""
from iqa_keras.config import OVERRIDES_HEADER, load_config
from iqa_keras.resources import bundled_config


def test_a_run_folders_config_reloads_to_the_config_that_ran(tmp_path):
    ran = load_config(bundled_config("demo_fr_simple"), ["train.epochs=3", "model.input_size=96"])
    assert (ran.train.epochs, ran.model.input_size) == (3, 96)
    stored = tmp_path / "config.toml"
    stored.write_text(ran.text)  # what train() writes into the run folder
    reloaded = load_config(stored)
    assert reloaded.to_dict() == ran.to_dict()
    again = load_config(stored, ["train.epochs=5"])  # a further --set goes after the recorded ones and wins
    assert (again.train.epochs, again.model.input_size) == (5, 96)
    assert again.text.count(OVERRIDES_HEADER) == 1 and again.text.endswith("# --set train.epochs=5\n")


def test_bundled_configs_load_by_name_and_unknown_names_list_them():
    import pytest

    from iqa_keras.config import ConfigError

    assert load_config("demo_fr_simple").model.architecture == "fr_simple"
    assert load_config("configs/demo_fr_simple.toml").to_dict() == load_config("demo_fr_simple").to_dict()
    assert load_config("reference/fr_bn_train").model.architecture == "fr_bn"
    with pytest.raises(ConfigError, match=r"config file not found: nope \(nor a bundled config.*demo_fr_simple"):
        load_config("nope")
