"""The image perturbations of the robustness run: deterministic under a seed, identities at 0,
volume adaptation on target, and what they must keep."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import sphere_mask

from radiopipe.config import RobustnessConfig
from radiopipe.errors import CaseError
from radiopipe.preprocess.perturb import (
    adapt_volume,
    estimate_noise,
    randomise_contour,
    rotate,
    translate,
)
from radiopipe.preprocess.perturbations import apply, plan


def _case(shape=(16, 24, 24), radius=6.0, spacing=(0.8, 0.8, 2.0)):
    rng = np.random.default_rng(0)
    grid = np.indices(shape).astype(float)
    values = (3 * grid[1] + grid[2] + rng.normal(0, 2, shape)).astype(np.float32)
    image = sitk.GetImageFromArray(values)
    image.SetSpacing(spacing)
    image.SetOrigin((-4.0, 3.0, 10.0))
    mask = sitk.GetImageFromArray(sphere_mask(shape, radius))
    mask.CopyInformation(image)
    return image, mask


def _array(image):
    return sitk.GetArrayFromImage(image)


def test_immerkaer_estimate_finds_the_noise_under_a_ramp():
    rng = np.random.default_rng(1)
    ramp = np.indices((6, 80, 80)).sum(axis=0) * 5.0
    assert estimate_noise(ramp + rng.normal(0, 4, ramp.shape)) == pytest.approx(4, rel=0.05)
    assert estimate_noise(ramp) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("move", [lambda i, m: rotate(i, m, 0.0), lambda i, m: translate(i, m, 0)])
def test_rotation_and_translation_by_zero_are_the_identity(move):
    image, mask = _case()
    moved, moved_mask = move(image, mask)
    np.testing.assert_allclose(_array(moved), _array(image), rtol=0, atol=1e-4)
    np.testing.assert_array_equal(_array(moved_mask), _array(mask))
    assert moved.GetSpacing() == image.GetSpacing() and moved.GetOrigin() == image.GetOrigin()


def test_rotation_turns_about_the_roi_centre_and_keeps_its_volume():
    image, mask = _case(shape=(8, 31, 31))
    turned, turned_mask = rotate(image, mask, 90.0)
    # a ball turned about its own centre stays where it is
    np.testing.assert_array_equal(_array(turned_mask), _array(mask))
    half = _array(rotate(image, mask, 30.0)[1]).sum()
    assert abs(int(half) - int(_array(mask).sum())) <= 0.05 * _array(mask).sum()
    assert not np.allclose(_array(turned), _array(image))


def test_translation_by_half_a_voxel_moves_the_ramp_by_half_its_step():
    image, mask = _case()
    moved, _ = translate(image, mask, 0.5)
    inner = (slice(2, -2),) * 3
    # content moves by +0.5 voxel along x: the value at a voxel is its left neighbour's plus half
    # the ramp's step of 1 along x, 3 along y and the same along z (none)
    gap = (_array(image) - _array(moved))[inner].mean()
    assert gap == pytest.approx(0.5 * (1 + 3), abs=0.1)


@pytest.mark.parametrize("fraction", [-0.5, -0.1, 0.1, 0.3])
def test_volume_adaptation_hits_the_target_within_one_voxel_layer(fraction):
    _, mask = _case()
    original = _array(mask).astype(bool)
    adapted = _array(adapt_volume(mask, fraction, case_id="c1")).astype(bool)
    target = original.sum() * (1 + fraction)
    layer = (adapted ^ _erode(adapted)).sum()  # the ROI's outer layer of voxels
    assert abs(adapted.sum() - target) <= layer
    assert abs(adapted.sum() - target) <= 1  # ranking within a layer: to the voxel
    assert (adapted <= original).all() if fraction < 0 else (adapted >= original).all()


def _erode(mask):
    from scipy import ndimage

    return ndimage.binary_erosion(mask)


def test_a_shrink_that_vanishes_names_the_case_the_key_and_the_fix():
    _, mask = _case()
    with pytest.raises(CaseError) as error:
        adapt_volume(mask, -0.9999, case_id="sts-003")
    message = str(error.value)
    assert "\n" not in message
    assert "case 'sts-003'" in message and "robustness.volume" in message
    assert "use fractions above" in message


def test_volume_fractions_of_minus_one_or_below_are_refused_by_the_config():
    with pytest.raises(ValueError, match="-1 would remove the whole ROI"):
        RobustnessConfig(volume={"fractions": [-1.0]})


def test_contour_randomisation_moves_the_boundary_only():
    _, mask = _case()
    original = _array(mask).astype(bool)
    changed = _array(randomise_contour(mask, np.random.default_rng(0), amplitude=1.0,
                                       smoothing=2.0, case_id="c")).astype(bool)
    assert (changed != original).any()
    assert (changed[_erode(_erode(_erode(original)))]).all()  # the core stays
    assert abs(changed.sum() - original.sum()) < 0.3 * original.sum()


SETTINGS = RobustnessConfig(
    seed=7, noise={"repetitions": 2}, rotation={"angles": [10]}, translation={"fractions": [0.3]},
    volume={"fractions": [-0.2, 0.2]}, contour={"repetitions": 1},
)


def test_every_perturbation_is_deterministic_under_its_seed_and_differs_across_seeds():
    image, mask = _case()
    other = SETTINGS.model_copy(update={"seed": 8})
    for version in plan(SETTINGS)[1:]:
        first = apply(version, image, mask, SETTINGS, case_id="c1")
        again = apply(version, image, mask, SETTINGS, case_id="c1")
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(_array(a), _array(b))
        if version.kind in ("noise", "contour"):
            moved = apply(version, image, mask, other, case_id="c1")
            changed = moved[0] if version.kind == "noise" else moved[1]
            assert not np.array_equal(_array(changed), _array(first[0 if version.kind ==
                                                                    "noise" else 1]))


def test_noise_is_added_at_the_estimated_level_and_leaves_the_mask():
    image, mask = _case()
    version = next(p for p in plan(SETTINGS) if p.kind == "noise")
    noisy, same_mask = apply(version, image, mask, SETTINGS, case_id="c1")
    added = _array(noisy) - _array(image)
    assert added.std() == pytest.approx(estimate_noise(_array(image)), rel=0.05)
    np.testing.assert_array_equal(_array(same_mask), _array(mask))


def test_plan_lists_each_kind_alone_or_the_capped_cartesian_product():
    alone = plan(SETTINGS)
    assert [p.name for p in alone] == [
        "original", "rotation=10", "translation=0.3", "noise#1", "noise#2", "volume=-0.2",
        "volume=0.2", "contour#1"]
    product = plan(SETTINGS.model_copy(update={"combine": True, "max_combinations": 1000}))
    assert len(product) == 1 + 1 * 1 * 2 * 2 * 1
    assert product[1].name == "rotation=10+translation=0.3+noise#1+volume=-0.2+contour#1"
    capped = plan(SETTINGS.model_copy(update={"combine": True, "max_combinations": 3}))
    assert len(capped) == 4 and {p.kind for p in capped[1:]} == {"combined"}
    assert capped == plan(SETTINGS.model_copy(update={"combine": True, "max_combinations": 3}))
