"""Feature column names: one function names them, one splits them."""

import pytest

from radiopipe.columns import column_name, is_column, split_column


def test_a_named_column_splits_back_into_its_parts():
    name = column_name("log-sigma-1-0-mm-3D", "glcm", "Idm")
    assert name == "log-sigma-1-0-mm-3D__glcm__Idm"
    assert split_column(name) == ("log-sigma-1-0-mm-3D", "glcm", "Idm")
    assert is_column(name)


def test_other_columns_are_not_radiomics_columns():
    assert not is_column("clinical__age")
    with pytest.raises(ValueError, match="image_type"):
        split_column("clinical__age")
