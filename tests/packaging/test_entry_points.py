"""``iqa-keras --version`` and ``python -m iqa_keras``, checked in this process (no TensorFlow start-up per check)."""
import runpy
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from iqa_keras.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_version_flag_names_the_package_and_its_keras_and_tensorflow(capsys):
    import iqa_keras

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    text = capsys.readouterr().out.strip()
    assert text == (f"iqa-keras {iqa_keras.__version__} (keras {metadata.version('keras')}, "
                    f"tensorflow {metadata.version('tensorflow')})")


def test_python_dash_m_iqa_keras_is_the_cli(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["python -m iqa_keras", "--version"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("iqa_keras", run_name="__main__", alter_sys=False)
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("iqa-keras ")


def test_pyproject_declares_the_console_script_and_takes_the_version_from_the_package():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"iqa-keras": "iqa_keras.cli:main"}
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "iqa_keras.version.__version__"}


def test_dependency_lower_bounds_are_met_by_the_tested_environment():
    """Every declared lower bound is at most the installed version (what the suite runs on)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    for requirement in project["project"]["dependencies"]:
        name, bounds = requirement.split(">=", 1)
        lower = bounds.split(",")[0]
        installed = metadata.version(name)
        as_tuple = lambda v: tuple(int(p) for p in v.split(".")[:2])  # noqa: E731
        assert as_tuple(lower) <= as_tuple(installed), f"{name}: bound {lower} above installed {installed}"
