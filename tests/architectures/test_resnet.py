"""ResNet-18 for no-reference regression (the bias-aware loss seed's model)."""
import numpy as np
import pytest

from helpers import assert_keras_round_trip
from iqa_keras import build_model

# torchvision's resnet18 has 11,689,512 parameters with its 1000-class head
# (512 x 1000 weights + 1000 biases = 513,000); with one output instead:
# 11,689,512 - 513,000 + 513. Keras counts BatchNorm's moving mean/variance as
# non-trainable weights (PyTorch keeps them as buffers), so the comparison is
# with the trainable count.
TORCHVISION_RESNET18 = 11_689_512
TRAINABLE_ONE_OUTPUT = TORCHVISION_RESNET18 - 513_000 + 513
# BatchNorm channels: stem 64 + stage 1 (4 x 64); stages 2-4: 4 per stage + 1 on the projection.
BN_CHANNELS = 64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_standard_width_matches_torchvision_parameter_count():
    model = build_model("resnet18", input_size=224)
    assert _trainable(model) == TRAINABLE_ONE_OUTPUT
    assert model.count_params() == TRAINABLE_ONE_OUTPUT + 2 * BN_CHANNELS
    assert model.iqa_info.kind == "nr"
    assert model.output_shape == (None, 1)


def test_width_scales_and_model_round_trips(tmp_path, rng):
    model = build_model("resnet18", input_size=48, width=4, drop_out=0.1)
    images = rng.uniform(0, 255, (3, 48, 48, 3)).astype("float32")
    before = model.predict(images, verbose=0)
    assert before.shape == (3, 1) and np.isfinite(before).all()
    loaded = assert_keras_round_trip(model, tmp_path / "resnet.keras", images, atol=1e-6)
    assert loaded.iqa_info.architecture == "resnet18"
    assert loaded.iqa_info.hyper_parameters["width"] == 4


@pytest.mark.parametrize("bad", [dict(width=0), dict(input_size=16), dict(drop_out=1.0)])
def test_bad_hyper_parameters_are_errors(bad):
    with pytest.raises(ValueError, match="resnet18"):
        build_model("resnet18", **bad)


def test_imagenet_input_normalization():
    """The bias-aware reference's torchvision Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])."""
    import keras
    import numpy as np

    from iqa_keras import build_model

    model = build_model("resnet18", input_size=32, width=4, input_normalization="imagenet")
    assert model.count_params() == build_model("resnet18", input_size=32, width=4).count_params()
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    normalize = keras.Model(model.input, model.get_layer("normalize").output)
    expected = (x / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(normalize.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
