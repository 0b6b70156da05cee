"""The package's layers (docs/architecture.md), enforced by walking every import with ``ast``.

A module imports only its own layer or lower ones, lazily imported modules included; stages never
import each other; every module is placed in a layer, so a new one must be placed on purpose.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "radiopipe"

# Highest first. A name covers the module and everything below it.
LAYERS = {
    "entry": ("radiopipe.__main__", "radiopipe.cli", "radiopipe.api", "radiopipe.case_tools",
              "radiopipe.config_tools", "radiopipe.results"),
    "stages": ("radiopipe.stages",),
    "report": ("radiopipe.report",),
    "learning": ("radiopipe.explain", "radiopipe.models", "radiopipe.evaluate", "radiopipe.bca",
                 "radiopipe.checks", "radiopipe.icc"),
    "cohort": ("radiopipe.extraction", "radiopipe.perturbed_extraction", "radiopipe.cnn",
               "radiopipe.scaleout", "radiopipe.compliance", "radiopipe.compliance.ibsi2",
               "radiopipe.devices"),
    "image": ("radiopipe.backends", "radiopipe.gpu", "radiopipe.features", "radiopipe.filters",
              "radiopipe.filters.ibsi2",
              "radiopipe.preprocess", "radiopipe.io", "radiopipe.image_integrity",
              "radiopipe.acquisition", "radiopipe.xp", "radiopipe.voxelwise"),
    "base": ("radiopipe.study", "radiopipe.config", "radiopipe.settings", "radiopipe.datasets",
             "radiopipe.manifest", "radiopipe.run_folder", "radiopipe.stage_reuse",
             "radiopipe.records", "radiopipe.table", "radiopipe.columns", "radiopipe.image_types",
             "radiopipe.storage",
             "radiopipe.errors", "radiopipe.provenance", "radiopipe.structures",
             "radiopipe.parallel", "radiopipe.diagnostics", "radiopipe.pyradiomics_names",
             "radiopipe.pyradiomics_csv"),
}
RANK = {layer: i for i, layer in enumerate(LAYERS)}
# The package itself only holds the version and the lazy facade onto radiopipe.api.
ROOT = "radiopipe"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> str:
    """The layer of a module (the longest matching name in :data:`LAYERS`)."""
    best = None
    for layer, names in LAYERS.items():
        for name in names:
            if (module == name or module.startswith(name + ".")) and (
                best is None or len(name) > len(best[1])
            ):
                best = (layer, name)
    if best is None:
        raise KeyError(module)
    return best[0]


def _imports(module: str, *, top_level_only: bool = False) -> set[str]:
    """The radiopipe modules ``module`` imports (``radiopipe.__version__``, a constant of the
    package itself, is not a module and lies below every layer)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _top_level(tree) if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {_known(a.name) for a in node.names if a.name.startswith(ROOT)}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node, is_package=path.name == "__init__.py")
            if not base.startswith(ROOT):
                continue
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    found.add(f"{base}.{alias.name}")
                elif base == ROOT and alias.name == "__version__":
                    continue
                else:
                    found.add(_known(base))
    return {m for m in found if m != module}


def _top_level(tree: ast.Module):
    """Import nodes Python runs on import (not inside functions or ``TYPE_CHECKING``)."""
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.If, ast.Try)):
            yield from (n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))


def _absolute(module: str, node: ast.ImportFrom, *, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    parts = parts if is_package else parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _known(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def test_every_module_has_a_layer():
    unplaced = []
    for module in MODULES:
        if module == ROOT:
            continue
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert unplaced == [], "place these modules in a layer (tests/test_layers.py, docs)"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != ROOT))
def test_imports_go_down_only(module):
    own = RANK[layer_of(module)]
    upward = sorted(f"{target} ({layer_of(target)})" for target in _imports(module)
                    if target != ROOT and RANK[layer_of(target)] < own)
    assert upward == [], f"{module} ({layer_of(module)}) imports a higher layer"


def test_stages_never_import_each_other():
    stages = [m for m in MODULES if m.startswith("radiopipe.stages.")]
    assert {"radiopipe.stages.extract", "radiopipe.stages.train", "radiopipe.stages.explain",
            "radiopipe.stages.report", "radiopipe.stages.predict"} <= set(stages)
    for module in stages:
        others = {t for t in _imports(module) if t.startswith("radiopipe.stages")}
        assert others == set(), f"{module} imports {sorted(others)}"


def test_features_never_import_models_and_report_imports_no_stage():
    for module in MODULES:
        targets = _imports(module)
        if module.startswith("radiopipe.features"):
            assert not any(t.startswith("radiopipe.models") for t in targets), module
        if module.startswith("radiopipe.report"):
            assert not any(t.startswith("radiopipe.stages") for t in targets), module


@functools.cache
def _floors(module: str) -> int:
    """Layers crossed by the deepest chain of import-time imports from ``module`` down."""
    below = [t for t in _imports(module, top_level_only=True) if t != ROOT]
    here = layer_of(module)
    return max((_floors(t) + (layer_of(t) != here) for t in below), default=1)


def test_the_import_graph_has_at_most_nine_floors():
    # The layers a chain of imports runs through from the entry point down (each layer one
    # floor): entry -> stages -> report -> learning -> cohort -> image -> base at most.
    assert _floors("radiopipe.__main__") <= 9
    assert _floors("radiopipe.__main__") <= len(LAYERS)
