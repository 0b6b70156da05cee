"""Names of the CNN branch's columns: raw embeddings in the feature table, PCA components after it.

The raw embedding of backbone ``b`` is stored as ``cnn__{b}__e{j}`` (j from 0), a feature-table
column like ``{image_type}__{family}__{feature}``; the in-fold PCA turns those into
``cnn__{b}__pc{i}`` (i from 1). Every other feature column is a radiomics column.
"""

from __future__ import annotations

from collections.abc import Iterable

PREFIX = "cnn"
_SEPARATOR = "__"


def embedding_column(backbone: str, index: int) -> str:
    """Name of dimension ``index`` (from 0) of ``backbone``'s raw embedding."""
    return f"{PREFIX}{_SEPARATOR}{backbone}{_SEPARATOR}e{index}"


def component_prefix(embedding_columns: Iterable[str]) -> str:
    """The PCA output stem of a backbone's embedding columns: ``cnn__{backbone}__pc``.

    Raises
    ------
    ValueError
        If the columns are not embedding columns of exactly one backbone.
    """
    backbones = {backbone_of(name) for name in embedding_columns}
    if len(backbones) != 1 or None in backbones:
        raise ValueError(
            "embedding columns must all be 'cnn__{backbone}__e{j}' of one backbone; got "
            f"backbones {sorted(str(b) for b in backbones)}"
        )
    return f"{PREFIX}{_SEPARATOR}{backbones.pop()}{_SEPARATOR}pc"


def backbone_of(column: str) -> str | None:
    """The backbone of an embedding column, None for any other column."""
    parts = column.split(_SEPARATOR)
    is_embedding = len(parts) == 3 and parts[0] == PREFIX and parts[2][:1] == "e"
    return parts[1] if is_embedding and parts[2][1:].isdigit() else None


def split_feature_columns(columns: Iterable[str]) -> tuple[list[str], list[str]]:
    """Feature-table columns split into (radiomics, CNN embedding), each in the given order."""
    radiomics, embedding = [], []
    for name in columns:
        (embedding if backbone_of(name) is not None else radiomics).append(name)
    return radiomics, embedding
