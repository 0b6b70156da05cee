"""One family interface: every family computes through ``Family.compute(inputs, settings)``, and
no orchestrator chooses a call by family name."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from radiopipe.compliance.configs import feature_settings
from radiopipe.compliance.data import DIGITAL_PHANTOM, read_phantom
from radiopipe.features import glcm, shape2d
from radiopipe.features.extract import (
    family_input,
    filter_images,
    morphology_input,
    prepare_case,
)
from radiopipe.features.registry import FAMILIES, SHAPE_2D
from radiopipe.io import Volume

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PACKAGE = Path(__file__).resolve().parents[2] / "radiopipe"
ORCHESTRATORS = [
    "features/extract.py",
    "gpu/extract.py",
    "compliance/compute.py",
    "compliance/run.py",
    "compliance/diagnostics.py",
    "explain/feature_maps.py",
]


@pytest.fixture(scope="module")
def phantom():
    folder = DATA / "ibsi1"
    if not folder.is_dir():
        pytest.skip(f"reference data folder {folder} is missing")
    return read_phantom(folder, DIGITAL_PHANTOM)


@pytest.fixture(scope="module")
def prepared(phantom):
    settings = feature_settings(None)
    prepared = prepare_case(phantom.image, phantom.mask, settings)
    (original,) = filter_images(prepared, settings).values()
    return settings, prepared, family_input(prepared, original, settings)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_computes_through_its_record(prepared, name):
    settings, case, inputs = prepared
    family = FAMILIES[name]
    if family.kind == "morphology":
        inputs = morphology_input(case)
    values = family.compute(inputs, settings)
    assert tuple(values) == family.feature_names
    assert all(isinstance(v, float) for v in values.values())
    assert sum(math.isfinite(v) for v in values.values()) >= len(values) - 2, values


def test_planar_shape_computes_through_its_record(phantom):
    # One slice of the phantom as a 2D case: 'shape' computes planar shape.
    z = int(np.argmax(phantom.mask.array.sum(axis=(1, 2))))
    spacing, origin = phantom.image.spacing[1:], phantom.image.origin[:2]
    image = Volume(phantom.image.array[z], spacing, origin, (1.0, 0.0, 0.0, 1.0))
    mask = Volume(phantom.mask.array[z], spacing, origin, (1.0, 0.0, 0.0, 1.0))
    settings = feature_settings(None)
    inputs = morphology_input(prepare_case(image, mask, settings))
    expected = shape2d.compute_shape2d(phantom.mask.array[z], spacing, mode="ibsi")
    assert FAMILIES["shape"].compute(inputs, settings) == expected
    assert SHAPE_2D.compute(inputs, settings) == expected


def test_a_record_equals_its_module_function(prepared):
    settings, _, inputs = prepared
    at = settings.model_copy(update={"aggregation": "2_5D_comb"})
    expected = glcm.compute_glcm(
        inputs.levels, inputs.roi, inputs.n_levels, aggregation="2_5D_comb", mode="ibsi"
    )
    assert FAMILIES["glcm"].compute(inputs, at) == expected


@pytest.mark.parametrize("module", ORCHESTRATORS)
def test_no_orchestrator_names_a_family(module):
    """Orchestrators pick families by the registry's attributes, never by a name in the code."""
    names = set(FAMILIES) | {SHAPE_2D.name}
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    named = [
        (node.lineno, node.value) for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert named == []
