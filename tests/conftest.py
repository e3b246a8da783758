"""Shared test fixtures: quiet TensorFlow, seeded randomness, the shared/ folder, a private image-check cache."""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def shared_dir():
    """``../shared`` beside the checkout; tests that need it skip without it."""
    if not SHARED.is_dir():
        pytest.skip(f"shared reference folder not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def embedded_cache(tmp_path_factory):
    """One small embedded set (48 x 48) built once for the test session (tests only read it)."""
    from iqa_keras.data.synthetic import build_embedded

    cache = tmp_path_factory.mktemp("embedded_cache")
    build_embedded(cache_dir=cache, size=48)
    return cache


@pytest.fixture(autouse=True, scope="session")
def private_image_check_cache(tmp_path_factory):
    """Training's image-check verdicts go to a session folder, not the user's cache, unless a test names one."""
    from iqa_keras.data import image_check

    folder = tmp_path_factory.mktemp("image_checks")
    original = image_check.default_check_cache
    image_check.default_check_cache = lambda cache_dir=None: original(cache_dir) if cache_dir is not None else folder
    yield folder
    image_check.default_check_cache = original
