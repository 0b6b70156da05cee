"""Feature column names: one function names them, one splits them."""

import pytest

from radiopipe.columns import (
    acquisition_column,
    column_modality,
    column_name,
    diagnostics_column,
    is_column,
    is_modality,
    split_column,
    split_diagnostics,
    with_modality,
)


def test_a_named_column_splits_back_into_its_parts():
    name = column_name("log-sigma-1-0-mm-3D", "glcm", "Idm")
    assert name == "log-sigma-1-0-mm-3D__glcm__Idm"
    assert split_column(name) == ("log-sigma-1-0-mm-3D", "glcm", "Idm")
    assert is_column(name)


def test_other_columns_are_not_radiomics_columns():
    assert not is_column("clinical__age")
    with pytest.raises(ValueError, match="image_type"):
        split_column("clinical__age")


def test_a_modality_prefix_is_split_off_and_kept_apart():
    name = with_modality("mr_t1", column_name("original", "glcm", "Idm"))
    assert name == "mr_t1__original__glcm__Idm"
    assert is_column(name)
    assert column_modality(name) == "mr_t1"
    assert split_column(name) == ("original", "glcm", "Idm")
    assert column_modality("original__glcm__Idm") is None


def test_acquisition_and_diagnostics_columns_are_never_features():
    for column in (acquisition_column("spacing_x", "pet"), diagnostics_column("kvp", "ct"),
                   diagnostics_column("manufacturer")):
        assert not is_column(column)
    assert diagnostics_column("kvp", "ct") == "diagnostics__ct__kvp"
    assert split_diagnostics("diagnostics__ct__kvp") == ("ct", "kvp")
    assert split_diagnostics("diagnostics__kvp") == (None, "kvp")
    assert not is_modality("diagnostics") and not is_modality("PET") and is_modality("mr_t1")
