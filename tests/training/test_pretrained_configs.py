"""The configs of the shipped pretrained models run end to end (one short epoch on three sample photos)."""
import pytest
import skimage.data

from helpers import CONFIGS, write_image
from iqa_keras import load_model
from iqa_keras.cli import main as cli_main


@pytest.mark.slow
@pytest.mark.parametrize("name, kind", [("pretrained_fr", "fr"), ("pretrained_nr", "nr")])
def test_shipping_config_trains_one_short_epoch(name, kind, tmp_path):
    photos = tmp_path / "photos"
    write_image(photos / "astronaut.png", skimage.data.astronaut())
    write_image(photos / "coffee.png", skimage.data.coffee())
    write_image(photos / "chelsea.png", skimage.data.chelsea())
    run = tmp_path / "run"
    overrides = [
        f'data.datasets.0.root="{photos}"', f'data.cache_dir="{tmp_path / "cache"}"',
        "train.epochs=1", "train.steps_per_epoch=2",
        'data.datasets.0.options.distortions=["jpeg", "gaussian_blur"]', "data.datasets.0.options.crops_per_photo=1",
        'data.datasets.0.fractions={ train = 0.67, val = 0.33 }',
    ]
    if kind == "nr":  # its subset of the zoo, narrowed to the two types built here
        overrides.append('data.datasets.0.options.subset=["jpeg", "gaussian_blur"]')
    args = ["train", str(CONFIGS / f"{name}.toml"), "--out", str(run)]
    for override in overrides:
        args += ["--set", override]
    assert cli_main(args) == 0
    model = load_model(run / "best.keras")
    assert model.iqa_info.kind == kind
    assert model.iqa_info.trained_on == ["photos"]
