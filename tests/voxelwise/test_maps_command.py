"""``radiopipe maps``: every case's maps in the run folder; a failing case recorded alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

import radiopipe as rp
from radiopipe.cli import EXIT_CASES_FAILED, main
from radiopipe.voxelwise.maps import FAMILY_MAPS
from tests.conftest import make_cohort, sphere_mask, write_config, write_image

FEATURES = ["original__firstorder__Mean", "original__glcm__Idm"]


def test_maps_writes_each_case_and_records_the_failing_one(tmp_path, capsys):
    manifest = make_cohort(tmp_path, n_per_class=2)
    config = write_config(tmp_path, manifest)
    # one case's mask on another grid: that case fails, the others are written
    write_image(tmp_path / "masks" / "dark-01.nrrd", sphere_mask((10, 12, 12)))
    code = main(["maps", str(config), "--features", *FEATURES, "--kernel-radius", "1", "-q"])
    assert code == EXIT_CASES_FAILED
    assert "dark-01" in capsys.readouterr().err
    maps = tmp_path / "run" / "maps"
    failure = json.loads((maps / "failures" / "dark-01.json").read_text(encoding="utf-8"))
    assert "dark-01" in failure["reason"]
    assert not (maps / "dark-01").exists()
    for case in ("dark-00", "bright-00", "bright-01"):
        image = tmp_path / "images" / f"{case}.nrrd"
        mask = tmp_path / "masks" / f"{case}.nrrd"
        expected = rp.voxel_maps(image, mask, FEATURES, settings={"bin_width": 10})
        for column in FEATURES:
            written = sitk.ReadImage(str(maps / case / f"{column}.nrrd"))
            # the ROI's box widened by the radius, placed where it lies in the image
            assert written.GetNumberOfPixels() < sitk.ReadImage(str(image)).GetNumberOfPixels()
            assert written.GetOrigin() == expected[column].GetOrigin()
            np.testing.assert_array_equal(sitk.GetArrayFromImage(written),
                                          sitk.GetArrayFromImage(expected[column]))
    assert not list(maps.rglob("*.tmp"))


def test_whole_image_maps_cover_the_image_with_nan_outside_the_roi(tmp_path):
    manifest = make_cohort(tmp_path, n_per_class=1)
    config = write_config(tmp_path, manifest)
    assert main(["maps", str(config), "--features", FEATURES[1], "--whole-image", "-q"]) == 0
    image = sitk.ReadImage(str(tmp_path / "images" / "dark-00.nrrd"))
    roi = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "masks" / "dark-00.nrrd"))) > 0
    written = sitk.ReadImage(str(tmp_path / "run" / "maps" / "dark-00" / f"{FEATURES[1]}.nrrd"))
    assert written.GetSize() == image.GetSize() and written.GetOrigin() == image.GetOrigin()
    values = sitk.GetArrayFromImage(written)
    assert np.isnan(values[~roi]).all() and not np.isnan(values[roi]).any()


def test_a_rerun_reuses_unchanged_maps_and_recomputes_changed_or_edited_ones(tmp_path, capsys):
    manifest = make_cohort(tmp_path, n_per_class=1)
    config = write_config(tmp_path, manifest)
    command = ["maps", str(config), "--features", *FEATURES, "-q"]
    assert main(command) == 0
    maps = tmp_path / "run" / "maps"
    first = {p: p.stat().st_mtime_ns for p in maps.rglob("*.nrrd")}
    assert len(first) == 4 and "2 case(s) reused" not in capsys.readouterr().out

    assert main(command) == 0  # nothing changed: both cases reused, no file rewritten
    assert "2 case(s) reused" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in maps.rglob("*.nrrd")} == first

    edited = maps / "dark-00" / f"{FEATURES[0]}.nrrd"  # an edited map is computed again
    original = edited.read_bytes()
    edited.write_bytes(original[:-8])
    assert main(command) == 0
    assert "1 case(s) reused" in capsys.readouterr().out
    assert edited.read_bytes() == original

    # fewer columns: computed again, and no map of a column no longer asked for is left
    assert main(["maps", str(config), "--features", FEATURES[1], "-q"]) == 0
    assert sorted(p.name for p in (maps / "bright-00").iterdir()) == ["maps.json",
                                                                     f"{FEATURES[1]}.nrrd"]
    # another kernel radius changes the key
    assert main(["maps", str(config), "--features", FEATURES[1], "--kernel-radius", "2",
                 "-q"]) == 0
    assert "reused" not in capsys.readouterr().out


def test_voxel_maps_refuses_an_unknown_feature(tmp_path):
    image = write_image(tmp_path / "image.nrrd", np.ones((6, 6, 6), dtype=np.float32))
    mask = write_image(tmp_path / "mask.nrrd", sphere_mask((6, 6, 6), 2.0))
    with pytest.raises(ValueError, match="cannot compute 'original__shape__VoxelVolume'"):
        rp.voxel_maps(image, mask, ["original__shape__VoxelVolume"])


def test_maps_help_names_every_mapped_family(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["maps", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for family in FAMILY_MAPS:
        assert ("first-order" if family == "firstorder" else family.upper()) in text, family
