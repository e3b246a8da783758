"""The package's messages go through logging: shown on stderr by the commands, silent in a library by default."""
import logging

import pytest

from iqa_keras.utils.logs import ROOT, show_messages


@pytest.fixture
def package_logger():
    """Restores the package logger's level and handlers after a test that changes them."""
    logger = logging.getLogger(ROOT)
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_show_messages_prints_plain_lines_on_the_current_stderr_once(package_logger, capsys):
    show_messages()
    show_messages()  # a second call adds no second handler
    logging.getLogger("iqa_keras.training.run").info("Run folder somewhere")
    captured = capsys.readouterr()
    assert captured.err == "Run folder somewhere\n" and captured.out == ""


def test_without_show_messages_the_library_shows_no_information(package_logger, capsys):
    package_logger.handlers[:] = []
    package_logger.setLevel(logging.NOTSET)
    logging.getLogger("iqa_keras.data.photos").info("Building ...")
    assert capsys.readouterr().err == ""


def test_building_the_embedded_set_reports_progress_only_when_messages_are_shown(package_logger, tmp_path, capsys):
    from iqa_keras.data.synthetic import build_embedded

    package_logger.handlers[:] = []
    package_logger.setLevel(logging.WARNING)
    build_embedded(tmp_path / "quiet", size=24)
    assert capsys.readouterr().err == ""

    show_messages()
    build_embedded(tmp_path / "shown", size=24)
    err = capsys.readouterr().err
    assert "Building the embedded set (9 photos x 7 distortions x 5 levels, 24 px)" in err
    assert "315/315 pairs" in err  # 9 x 7 x 5, the last line of the bar
    build_embedded(tmp_path / "shown", size=24)  # cached: nothing to build, nothing said
    assert capsys.readouterr().err == ""
