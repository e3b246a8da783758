"""The package's layers: a module imports only from its own layer or below, and no import cycle exists.

Layers, top to bottom (the package root ``iqa_keras/__init__.py`` is the
public facade above them all and is imported by no module of the package;
``iqa_keras/__main__.py`` is ``python -m iqa_keras``, an entry point above the CLI):

    cli
    training, scoring, experiments, export
    config
    architectures, losses, metrics, data, ranking
    registry, utils, scales, layers, model_io, resources, presets, version

Every ``import`` statement counts, including those inside functions.
"""
import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "iqa_keras"
LAYERS = (
    ("registry", "utils", "scales", "layers", "model_io", "resources", "presets", "version"),
    ("architectures", "losses", "metrics", "data", "ranking"),
    ("config",),
    ("training", "scoring", "experiments", "export"),
    ("cli",),
)
LAYER_OF = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}
ENTRY_POINTS = ("iqa_keras", "iqa_keras.__main__")


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> list[str]:
    """The package modules an ``from ... import ...`` statement loads."""
    if node.level:
        base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    found = []
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        if candidate in MODULES:  # `from pkg import submodule`: an edge to the submodule
            found.append(candidate)
        elif target in MODULES:  # a name defined by the module (or re-exported by a package)
            found.append(target)
    return found


def _imports(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            targets.update(_resolve(name, node))
    targets.discard(name)
    return targets


GRAPH = {name: _imports(name) for name in MODULES}


def _layer(name: str) -> int | None:
    parts = name.split(".")
    return None if len(parts) == 1 else LAYER_OF.get(parts[1])


def test_every_top_level_module_has_a_layer():
    tops = {name.split(".")[1] for name in MODULES if name not in ENTRY_POINTS}
    assert tops <= set(LAYER_OF), f"modules without a layer: {sorted(tops - set(LAYER_OF))}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n not in ENTRY_POINTS))
def test_no_import_goes_up_a_layer(name):
    upward = sorted(t for t in GRAPH[name] if t in ENTRY_POINTS or _layer(t) > _layer(name))
    assert not upward, f"{name} (layer {LAYERS[_layer(name)]}) imports from a higher layer: {upward}"


def test_no_import_cycles():
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(GRAPH[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for name in sorted(MODULES):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_relative_and_nested_imports():
    """The walk resolves ``from ..x import y`` and imports inside functions (checked on known edges)."""
    assert "iqa_keras.scales" in GRAPH["iqa_keras.losses.histogram"]
    assert "iqa_keras.architectures.nima" in GRAPH["iqa_keras.scoring.scorer"]  # imported inside a method
    assert "iqa_keras.utils.plots" in GRAPH["iqa_keras.training.callbacks"]  # `from ..utils import plots`
