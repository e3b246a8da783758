"""The local worker launcher (``iqa-keras train --workers N``) and the TF_CONFIG check, without TensorFlow workers."""
import json
import sys

import pytest


def test_tf_configs_name_every_worker_on_distinct_local_ports():
    from iqa_keras.training.launch import tf_configs

    configs = [json.loads(text) for text in tf_configs(3)]
    workers = configs[0]["cluster"]["worker"]
    assert len(set(workers)) == 3 and all(w.startswith("127.0.0.1:") for w in workers)
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]
    assert all(c["cluster"] == configs[0]["cluster"] for c in configs)


def test_one_failing_worker_stops_the_others_and_gives_its_status():
    from iqa_keras.training.launch import start_workers, wait_for_workers

    # Worker 0 fails at once; worker 1 would wait for a minute: it must be stopped, not waited for.
    code = "import json, os, sys, time; i = json.loads(os.environ['TF_CONFIG'])['task']['index']; " \
           "sys.exit(3) if i == 0 else time.sleep(60)"
    processes = start_workers([sys.executable, "-c", code], 2)
    assert wait_for_workers(processes, timeout=30) == 3
    assert all(p.poll() is not None for p in processes)


@pytest.mark.parametrize("text", ["not json", '{"cluster": {"worker": ["a:1"]}}',
                                  '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}'])
def test_bad_tf_config_is_an_error_naming_it(monkeypatch, text):
    from iqa_keras.config import ConfigError
    from iqa_keras.training.strategy import make_strategy

    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        make_strategy("multi_worker")
