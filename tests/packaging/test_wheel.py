"""The wheel carries the code, the shipped models, the bundled configs and the ranking weights, byte for byte."""
import hashlib
import re
import tomllib
import zipfile

import pytest

from iqa_keras.version import __version__

from helpers import REPO, build_wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _expected_members() -> dict[str, str]:
    """Wheel member -> checkout file, from the checkout's folders (not from the build configuration)."""
    expected = {p.relative_to(REPO).as_posix(): p for p in (REPO / "iqa_keras").rglob("*.py")}
    expected.update({p.relative_to(REPO).as_posix(): p for p in (REPO / "iqa_keras" / "ranking" / "weights").glob("*.h5")})
    for folder, pattern in (("models", "*.keras"), ("configs", "*.toml")):
        for path in (REPO / folder).rglob(pattern):
            if not path.name.startswith("."):
                expected[f"iqa_keras/shipped/{folder}/{path.relative_to(REPO / folder).as_posix()}"] = path
    for name in ("manifest.json", "README.md"):
        expected[f"iqa_keras/shipped/models/{name}"] = REPO / "models" / name
    return {member: path for member, path in expected.items() if "__pycache__" not in member}


def test_wheel_holds_every_shipped_file_byte_for_byte(wheel):
    expected = _expected_members()
    assert any(m.endswith(".keras") for m in expected) and any(m.endswith("demo_fr_simple.toml") for m in expected)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert not set(expected) - names, f"missing from the wheel: {sorted(set(expected) - names)}"
        for member, path in expected.items():
            if not member.endswith(".py"):
                assert (hashlib.sha256(archive.read(member)).digest()
                        == hashlib.sha256(path.read_bytes()).digest()), member
        package_files = {n for n in names if not n.startswith("iqa_keras-")}
        extra = sorted(package_files - set(expected))
        assert not extra, f"in the wheel but not in the checkout's package folders: {extra}"


def _parsed(requirement: str) -> tuple[str, frozenset]:
    """``"numpy<3,>=2.4"`` and ``"numpy>=2.4,<3"`` alike: (name, set of version clauses)."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    return name, frozenset(clause.strip() for clause in requirement[len(name):].split(","))


def test_wheel_metadata_matches_pyproject(wheel):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    with zipfile.ZipFile(wheel) as archive:
        info = f"iqa_keras-{__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    lines = metadata.splitlines()
    assert f"Version: {__version__}" in lines
    requires = {_parsed(line.split(": ", 1)[1]) for line in lines
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert requires == {_parsed(r) for r in project["dependencies"]}
    assert "iqa-keras = iqa_keras.cli:main" in entry_points
