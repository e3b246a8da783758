"""The demo config reaches the promised validation SRCC on held-out contents (slow: ~10 min)."""
import json
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo_fr_simple.toml"


@pytest.mark.slow
def test_demo_fr_simple_reaches_srcc_090_on_unseen_contents(tmp_path):
    from iqa_keras.config import load_config
    from iqa_keras.training import prepare_data, train

    config = load_config(CONFIG)
    data = prepare_data(config)
    assert not set(data.records["train"]["content"]) & set(data.records["val"]["content"])
    run_dir = train(config, tmp_path / "demo")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["val"]["srcc"] >= 0.90, metrics["val"]
