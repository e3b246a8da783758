"""docs/reproducing.md: every table row names a config that exists or an ``iqa-keras`` command that parses."""
import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reproducing.md"


def _table_rows(text: str) -> list[str]:
    """Body rows of every Markdown table: each block of "|" lines minus its header and separator."""
    rows, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) > 2:
            rows += block[2:]
        block = []
    return rows


def _code_spans(row: str) -> list[str]:
    return re.findall(r"`([^`]+)`", row)


def _configs(row: str) -> list[str]:
    return [span for span in _code_spans(row) if re.fullmatch(r"configs/[\w/*.-]+\.toml", span)]


def _commands(row: str) -> list[str]:
    return [span for span in _code_spans(row) if span.startswith("iqa-keras ")]


ROWS = _table_rows(DOC.read_text(encoding="utf-8"))


def test_the_doc_has_its_tables():
    assert len(ROWS) >= 30
    assert "MEASURED_" not in DOC.read_text(encoding="utf-8")  # every placeholder filled in


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.split("|")[1].strip()[:40])
def test_every_row_names_a_config_or_a_command(row):
    from iqa_keras.cli import build_parser

    configs, commands = _configs(row), _commands(row)
    assert configs or commands, f"row names no config or command: {row}"
    for config in configs:
        assert list(REPO.glob(config)), f"{config} does not exist"
    parser = build_parser()
    for command in commands:
        argv = shlex.split(command)[1:]
        args = parser.parse_args(argv)  # exits (fails the test) on an unknown option
        if args.command == "train":
            assert (REPO / args.config).is_file(), args.config


def test_every_reference_config_has_its_row():
    named = {config for row in ROWS for config in _configs(row)}
    named |= {config for row in ROWS for command in _commands(row)
              for config in re.findall(r"configs/[\w/.-]+\.toml", command)}
    for path in sorted((REPO / "configs" / "reference").glob("*.toml")):
        assert str(path.relative_to(REPO)) in named, path.name
