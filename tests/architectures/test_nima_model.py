"""NIMA architectures: preprocessing vs keras.applications, save/load, weights files, the imagenet error,
and the two-rate Adam (rates, frozen phase, saved state)."""
import keras
import numpy as np
import pytest

from helpers import assert_keras_round_trip
from iqa_keras import build_model, load_model, save_model
from iqa_keras.architectures.nima import build_backbone
from iqa_keras.layers import BackbonePreprocess

TINY = {"input_size": 32, "alpha": 0.35}


@pytest.fixture(scope="module")
def tiny_nima():
    return build_model("nima", **TINY)


@pytest.mark.parametrize("mode,module", [("tf", "mobilenet_v2"), ("caffe", "vgg16"), ("torch", "densenet"),
                                         ("tf", "inception_resnet_v2"), ("tf", "nasnet")])
def test_preprocessing_matches_keras_applications(rng, mode, module):
    images = rng.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    expected = getattr(keras.applications, module).preprocess_input(images.copy())
    got = keras.ops.convert_to_numpy(BackbonePreprocess(mode)(images))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_nima_outputs_a_distribution_and_round_trips(tmp_path, rng, tiny_nima):
    model = tiny_nima
    assert model.iqa_info.kind == "nima"
    assert [layer.name for layer in model.layers][-3:] == ["pooled", "dropout", "histogram"]
    assert model.get_layer("dropout").rate == 0.75
    images = rng.uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    out = np.asarray(model.predict_on_batch(images))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    loaded = assert_keras_round_trip(model, tmp_path / "nima.keras", images, atol=1e-6)
    assert loaded.iqa_info.kind == "nima" and loaded.iqa_info.hyper_parameters["alpha"] == 0.35
    assert isinstance(loaded.get_layer("preprocess"), BackbonePreprocess)


def test_regression_variant_has_a_features_layer_and_one_output(rng):
    model = build_model("nima_regression", features=16, **TINY)
    assert model.iqa_info.kind == "nr"
    assert model.get_layer("features").units == 16
    assert model.output.shape[-1] == 1
    from iqa_keras.architectures.nima import feature_layer_name

    assert feature_layer_name(model) == "features"


def test_imagenet_weights_give_the_local_file_error():
    with pytest.raises(ValueError, match="never downloads") as error:
        build_model("nima", weights="imagenet", **TINY)
    assert "weights = " in str(error.value) and "MobileNetV2" in str(error.value)
    with pytest.raises(FileNotFoundError, match="not found"):
        build_model("nima", weights="/no/such/file.h5", **TINY)


def test_imagenet_in_a_config_is_refused_before_training(tmp_path):
    from iqa_keras.config import load_config
    from iqa_keras.training import build_compiled_model

    path = tmp_path / "c.toml"
    path.write_text('[model]\narchitecture = "nima"\ninput_size = 32\nalpha = 0.35\nweights = "imagenet"\n'
                    '[loss]\nname = "nima"\n')
    with pytest.raises(ValueError, match="never downloads"):
        build_compiled_model(load_config(path))


def test_backbone_weights_from_a_local_file(tmp_path, rng):
    donor = build_backbone("MobileNetV2", 32, alpha=0.35)
    donor.set_weights([rng.normal(size=w.shape).astype("float32") * 0.01 + (w if w.ndim == 1 else 0) for w in
                       donor.get_weights()])
    path = tmp_path / "mobilenet_v2_no_top.weights.h5"
    donor.save_weights(path)
    model = build_model("nima", weights=str(path), **TINY)
    for got, want in zip(model.get_layer("backbone").get_weights(), donor.get_weights()):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="does not fit"):
        build_model("nima", input_size=32, alpha=0.5, weights=str(path))


def test_unknown_backbone_and_bad_alpha():
    with pytest.raises(ValueError, match="known: .*MobileNetV2"):
        build_model("nima", backbone="ResNet9000", input_size=32)
    with pytest.raises(ValueError, match="alpha"):
        build_model("nima", backbone="VGG16", input_size=32, alpha=0.5)


def test_bn_momentum_is_set_and_saved(tmp_path):
    model = build_model("nima", bn_momentum=0.9, **TINY)
    momenta = {layer.momentum for layer in model.get_layer("backbone").layers
               if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {0.9}
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert {layer.momentum for layer in loaded.get_layer("backbone").layers
            if isinstance(layer, keras.layers.BatchNormalization)} == {0.9}


@pytest.mark.slow
@pytest.mark.parametrize("backbone,size", [("MobileNet", 32), ("MobileNetV2", 32), ("InceptionResNetV2", 75),
                                           ("NASNetMobile", 32), ("EfficientNetB0", 32), ("VGG16", 32)])
def test_every_required_backbone_builds(backbone, size):
    model = build_model("nima", backbone=backbone, input_size=size)
    assert model.output.shape[-1] == 10 and model.get_layer("backbone").name == "backbone"


# --------------------------------------------------------------- two learning rates
def _small_model_with_backbone():
    """A tiny model with a nested "backbone" model (a NIMA stand-in that traces fast)."""
    keras.utils.set_random_seed(3)
    inner_input = keras.Input((8, 8, 3))
    backbone = keras.Model(inner_input, keras.layers.Conv2D(4, 3, name="conv")(inner_input), name="backbone")
    image = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(backbone(image))
    return keras.Model(image, keras.layers.Dense(10, activation="softmax", name="histogram")(x))


def _compiled(multiplier):
    from iqa_keras.losses.histogram import NIMALoss
    from iqa_keras.training.optimizers import TwoRateAdam

    model = _small_model_with_backbone()
    optimizer = TwoRateAdam(learning_rate=1e-3, backbone_multiplier=multiplier).bind(model)
    model.compile(optimizer=optimizer, loss=NIMALoss())
    optimizer.build(model.trainable_variables)
    return model, optimizer


def _step(model, rng):
    images = rng.uniform(0, 255, (8, 8, 8, 3)).astype("float32")
    targets = rng.dirichlet(np.ones(10), 8).astype("float32")
    head, conv = model.get_layer("histogram").kernel, model.get_layer("backbone").get_layer("conv").kernel
    before = head.numpy().copy(), conv.numpy().copy()
    model.train_on_batch(images, targets)
    return np.abs(head.numpy() - before[0]).max(), np.abs(conv.numpy() - before[1]).max()


def test_two_rate_adam_rates_frozen_phase_and_saved_state(tmp_path, rng):
    model, optimizer = _compiled(3.0)
    # Adam's first step moves each weight by lr * g / (|g| + eps): about lr where the gradient is not tiny.
    head, backbone = _step(model, rng)
    assert head == pytest.approx(1e-3, rel=1e-3) and backbone == pytest.approx(3e-3, rel=1e-3)
    optimizer.set_backbone_scale(0.0)  # frozen: the backbone stays, the head moves
    head, backbone = _step(model, rng)
    assert head > 1e-4 and backbone == 0.0
    # what RunState does: save_weights, then build a fresh optimizer and load
    model.save_weights(tmp_path / "last.weights.h5")
    fresh, fresh_optimizer = _compiled(3.0)
    fresh.load_weights(tmp_path / "last.weights.h5")
    assert float(fresh_optimizer.backbone_scale.numpy()) == 0.0
    assert int(fresh_optimizer.iterations.numpy()) == 2
    for a, b in zip(optimizer.variables, fresh_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer))
    assert type(again).__name__ == "TwoRateAdam" and again.backbone_multiplier == 3.0


def test_binding_needs_a_backbone_layer():
    from iqa_keras.training.optimizers import TwoRateAdam

    with pytest.raises(ValueError, match="no layer named 'backbone'"):
        TwoRateAdam().bind(build_model("resnet18", input_size=32, width=4))
