"""The four FR networks against the reference tables in shared/reference/fr_architectures.md."""
import keras
import numpy as np
import pytest

import iqa_keras
from helpers import assert_keras_round_trip
from iqa_keras import build_model, load_model
from iqa_keras.cli import main as cli_main

SEED_ROWS = {
    # config row: (architecture, hyper-parameters, total, trainable) from the reference table
    "simple, model 1": (
        "fr_simple",
        dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 16], kss=[5, 5, 3, 3], alpha=0.7, l2=[0, 1e-2], dense_num=32),
        839_039,
        839_039,
    ),
    "simple, model 2": (
        "fr_simple",
        dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 32], kss=[5, 5, 3, 3], alpha=0.5, l2=[1e-6, 1e-4], dense_num=32),
        1_503_759,
        1_503_759,
    ),
    "bn": (
        "fr_bn",
        dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 32], kss=[5, 5, 3, 3], alpha=0.5, l2=[1e-6, 1e-4], dense_num=32),
        1_504_943,
        1_504_351,
    ),
    "attention": (
        "fr_attention",
        dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 32], kss=[5, 5, 3, 3], alpha=0.5, l2=[1e-6, 1e-4], dense_num=32,
             num_resblocks=3, attention_flag=True),
        529_103,
        528_367,
    ),
    "tiled": (
        "fr_tiled",
        dict(nfs=[8, 16, 32, 64, 64, 64, 32, 16, 8, 32], kss=[5, 5, 3, 3], alpha=0.5, l2=[1e-6, 1e-4], dense_num=32,
             tile_size=72, lstm_units=32),
        373_902,
        373_902,
    ),
}
ARCHITECTURE_NAMES = ["fr_simple", "fr_bn", "fr_attention", "fr_tiled"]


def _trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("row", list(SEED_ROWS))
def test_parameter_counts_match_reference_table(row):
    name, hyper, total, trainable = SEED_ROWS[row]
    model = build_model(name, input_size=288, **hyper)
    assert model.count_params() == total
    assert _trainable_count(model) == trainable


def _random_pair(rng, batch=2, size=288):
    ref = rng.integers(0, 256, size=(batch, size, size, 3)).astype("float32")
    dist = np.clip(ref + rng.normal(0, 25, size=ref.shape), 0, 255).astype("float32")
    return ref, dist


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_one_encoder_serves_both_images(name, rng):
    keras.utils.set_random_seed(0)
    model = build_model(name, input_size=144, **({"tile_size": 72} if name == "fr_tiled" else {}))
    encoders = [layer for layer in model.layers if layer.name == "encoder"]
    assert len(encoders) == 1, "exactly one encoder sub-model (one set of weights)"
    encoder = encoders[0]
    # Every convolution of the encoder exists once in the whole model.
    encoder_weight_ids = {id(w) for w in encoder.weights}
    assert len(encoder_weight_ids) == len(encoder.weights)

    ref, dist = _random_pair(rng, size=144)
    diff_model = keras.Model(model.inputs, [model.get_layer(f"d{i}").output for i in range(1, 5)])
    # Identical images: the difference maps are exactly zero.
    for d in diff_model.predict([ref, ref], verbose=0):
        assert np.array_equal(d, np.zeros_like(d))
    # Different images: each difference map equals |E(ref) - E(dist)| computed
    # with the one encoder called separately.
    feats_ref = encoder.predict(ref, verbose=0)
    feats_dist = encoder.predict(dist, verbose=0)
    for d, fr, fd in zip(diff_model.predict([ref, dist], verbose=0), feats_ref, feats_dist):
        np.testing.assert_allclose(d, np.abs(fr - fd), rtol=1e-5, atol=1e-5)
        assert np.abs(d).max() > 0


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_output_changes_with_distorted_image(name, rng):
    keras.utils.set_random_seed(1)
    model = build_model(name, input_size=144, **({"tile_size": 72} if name == "fr_tiled" else {}))
    ref, dist = _random_pair(rng, size=144)
    other = np.clip(dist + rng.normal(0, 40, size=dist.shape), 0, 255).astype("float32")
    a = model.predict([ref, dist], verbose=0)
    b = model.predict([ref, other], verbose=0)
    assert a.shape == (2, 1)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_keras_round_trip_is_bit_identical(name, rng, tmp_path):
    keras.utils.set_random_seed(2)
    model = build_model(name)
    ref, dist = _random_pair(rng)
    loaded = assert_keras_round_trip(model, tmp_path / f"{name}.keras", [ref, dist])  # bit-identical outputs
    assert loaded.count_params() == model.count_params()


def test_no_lambda_layers():
    for name in ARCHITECTURE_NAMES:
        model = build_model(name)
        stack = list(model.layers)
        while stack:
            layer = stack.pop()
            assert not isinstance(layer, keras.layers.Lambda), f"{name}: Lambda layer {layer.name}"
            stack.extend(getattr(layer, "layers", []))


def test_tiled_rejects_indivisible_input_size():
    with pytest.raises(ValueError) as error:
        build_model("fr_tiled", input_size=300, tile_size=72)
    assert "300" in str(error.value) and "72" in str(error.value)


def test_tiling_is_raster_order():
    image = np.arange(4 * 4 * 1, dtype="float32").reshape(1, 4, 4, 1)
    tiles = iqa_keras.TileImage(2)(image).numpy()
    assert tiles.shape == (1, 4, 2, 2, 1)
    expected = [image[0, :2, :2], image[0, :2, 2:], image[0, 2:, :2], image[0, 2:, 2:]]
    for got, want in zip(tiles[0], expected):
        assert np.array_equal(got, want)


def test_normalize_maps_uint8_range_to_unit_interval():
    out = iqa_keras.Normalize()(np.array([[0.0, 127.5, 255.0]])).numpy()
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]])


def test_unknown_architecture_lists_known_ones():
    with pytest.raises(ValueError) as error:
        build_model("fr_nope")
    for known in ARCHITECTURE_NAMES:
        assert known in str(error.value)


def test_unknown_hyper_parameter_is_named():
    with pytest.raises(TypeError, match="tile_size"):
        build_model("fr_simple", tile_size=72)


def test_cli_models_lists_parameter_counts(capsys):
    assert cli_main(["models", "fr_simple", "fr_tiled"]) == 0
    out = capsys.readouterr().out
    assert "fr_simple" in out and "1,503,759" in out
    assert "fr_tiled" in out and "373,902" in out


def test_save_model_stores_model_info(tmp_path):
    model = build_model("fr_simple", input_size=64, dense_num=8)
    model.iqa_info.score_mean, model.iqa_info.score_std = 4.47, 1.30
    model.iqa_info.higher_is_better = False
    path = tmp_path / "m.keras"
    iqa_keras.save_model(model, path)
    loaded = load_model(path)
    info = loaded.iqa_info
    assert (info.architecture, info.kind, info.input_size) == ("fr_simple", "fr", 64)
    assert (info.score_mean, info.score_std, info.higher_is_better) == (4.47, 1.30, False)
    assert info.hyper_parameters["dense_num"] == 8
    assert info.denormalize(1.0) == pytest.approx(5.77)
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"], "no temporary file left behind"


def test_update_info_rewrites_only_the_description(tmp_path):
    import zipfile

    from iqa_keras.model_io import read_info, update_info

    model = build_model("fr_simple", input_size=64, dense_num=8)
    path = tmp_path / "m.keras"
    iqa_keras.save_model(model, path)
    before = {i.filename: zipfile.ZipFile(path).read(i.filename) for i in zipfile.ZipFile(path).infolist()}
    update_info(path, description="a test model", checks={"live_srcc": 0.9}, score_range=[1.0, 5.0])
    info = read_info(path)
    assert (info.description, info.checks, info.score_range) == ("a test model", {"live_srcc": 0.9}, [1.0, 5.0])
    after = zipfile.ZipFile(path)
    for name, data in before.items():  # weights and config untouched, byte for byte
        if name != "iqa_keras.json":
            assert after.read(name) == data
    x = [np.full((1, 64, 64, 3), 100.0, np.float32)] * 2
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="unknown ModelInfo field"):
        update_info(path, colour="blue")


def test_cli_models_lists_shipped_models_with_their_description(tmp_path, monkeypatch, capsys):
    import iqa_keras.scoring.scorer
    from iqa_keras.model_io import update_info

    model = build_model("fr_simple", input_size=64, dense_num=8)
    (tmp_path / "demo").mkdir()
    iqa_keras.save_model(model, tmp_path / "main.keras")
    iqa_keras.save_model(model, tmp_path / "demo" / "old.keras")
    update_info(tmp_path / "main.keras", description="the default", label_source="gmsd", score_range=[1.0, 5.0],
                checks={"live_pooled": 0.95})
    monkeypatch.setattr(iqa_keras.scoring.scorer, "DEFAULT_MODELS_DIR", tmp_path)
    assert cli_main(["models", "--shipped"]) == 0
    out = capsys.readouterr().out
    assert "main.keras [default]" in out and "demo/old.keras" in out and "demo/old.keras [default]" not in out
    assert "scores 1 to 5, higher is better" in out and "labels: gmsd" in out and "live_pooled 0.95" in out

def test_lstm_gate_option_keeps_parameters_and_changes_output(rng, tmp_path):
    """fr_tiled with the reference's gate (TF 2.4's hard_sigmoid): same weights, a different function."""
    from iqa_keras.layers import legacy_hard_sigmoid

    x = np.linspace(-4, 4, 81).astype("float32")
    np.testing.assert_allclose(np.asarray(legacy_hard_sigmoid(x)), np.clip(0.2 * x + 0.5, 0, 1), atol=1e-7)
    name, hyper, total, trainable = SEED_ROWS["tiled"]
    gated = build_model(name, input_size=288, lstm_gate="hard_sigmoid", **hyper)
    assert gated.count_params() == total and _trainable_count(gated) == trainable
    small = dict(input_size=64, tile_size=16, lstm_units=4, dense_num=8)
    keras.utils.set_random_seed(3)
    plain = build_model("fr_tiled", **small)
    hard = build_model("fr_tiled", lstm_gate="hard_sigmoid", **small)
    hard.set_weights(plain.get_weights())
    inputs = list(_random_pair(rng, size=64))
    # The encoder's ConvLSTM2D output differs (the head's sigmoid would shrink the difference).
    encoder_plain, encoder_hard = plain.get_layer("encoder"), hard.get_layer("encoder")
    assert not np.allclose(encoder_plain.predict(inputs[1], verbose=0)[0], encoder_hard.predict(inputs[1], verbose=0)[0])
    assert not np.array_equal(plain.predict(inputs, verbose=0), hard.predict(inputs, verbose=0))
    loaded = assert_keras_round_trip(hard, tmp_path / "hard.keras", inputs)
    assert loaded.get_layer("encoder").get_layer("conv_lstm").recurrent_activation is legacy_hard_sigmoid
    with pytest.raises(ValueError, match="lstm_gate"):
        build_model("fr_tiled", lstm_gate="relu", **small)
