"""Explanations on disk: SHAP values and feature maps as parquet, provenance in the metadata.

SHAP values: one row per (case, explained class). Columns: ``case_id``, ``fold`` (the held-out
fold that explained the case; -1 for a new case), ``output`` (the class), ``base_value``,
``model_output``, one column per explained feature holding its SHAP value, then one per CNN
principal component (``Explanation.components``, listed in the metadata's ``components``). The
file metadata (key ``radiopipe``) records the explainer, the output space, the explained model
and the key of the inputs the file was computed from.

Feature maps: one row per shown pixel of each map (:func:`maps_frame`): local value maps and the
contribution map (``kind``), with the ROI voxels in each pixel's window (``window_voxels``) and
the engine that computed the local values (``engine``).

CNN saliency maps: one row per pixel of each case's shown input (:func:`saliency_frame`), the
components' SHAP weights in the metadata (``weights``: case id -> component -> weight).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from radiopipe.explain.cnn_saliency import SaliencyMap
from radiopipe.explain.explainers import Explanation
from radiopipe.explain.feature_maps import FeatureMap
from radiopipe.explain.local_values import WINDOWS
from radiopipe.storage import atomic_write

METADATA_KEY = b"radiopipe"
_META_COLUMNS = ("case_id", "fold", "output", "base_value", "model_output")
_MAP_COLUMNS = (
    "case_id", "feature", "rank", "kind", "output", "slice_index", "window", "stride",
    "spacing_row", "spacing_column", "spacing_slice", "min_coverage", "roi_voxels", "exponent",
    "whole_roi", "engine", "row", "column", "image", "roi", "window_voxels", "value",
)
_SALIENCY_COLUMNS = ("case_id", "plane", "score", "row", "column", "image", "roi", "value")


def explanation_frame(explanation: Explanation, folds) -> pd.DataFrame:
    """The long table of an explanation (see the module docstring)."""
    n, p, m = explanation.values.shape
    frame = pd.DataFrame(
        {
            "case_id": np.repeat(np.asarray(explanation.case_ids, dtype=object), m),
            "fold": np.repeat(np.asarray(folds, dtype=np.int64), m),
            "output": np.tile(np.asarray(explanation.outputs, dtype=object), n),
            "base_value": explanation.base_values.reshape(-1),
            "model_output": explanation.model_output.reshape(-1),
        }
    )
    values = explanation.values.transpose(0, 2, 1).reshape(n * m, p)
    parts = [frame, pd.DataFrame(values, columns=list(explanation.features))]
    if explanation.components:
        q = len(explanation.components)
        components = explanation.component_values.transpose(0, 2, 1).reshape(n * m, q)
        parts.append(pd.DataFrame(components, columns=list(explanation.components)))
    return pd.concat(parts, axis=1)


def write_explanation(path: Path, explanation: Explanation, folds, info: dict) -> Path:
    """Write the table atomically with the explainer, output space and ``info`` as metadata."""
    table = pa.Table.from_pandas(explanation_frame(explanation, folds), preserve_index=False)
    meta = {"method": explanation.method, "output_space": explanation.output_space,
            "components": list(explanation.components), **info}
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})
    return atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def read_metadata(path: Path) -> dict:
    """The metadata of a SHAP file ({} when it has none)."""
    return json.loads((pq.read_schema(path).metadata or {}).get(METADATA_KEY, b"{}"))


def read_explanation(path: Path) -> tuple[Explanation, np.ndarray, dict]:
    """Read a SHAP file back.

    Returns
    -------
    (Explanation, numpy.ndarray, dict)
        The values, the fold of each case, and the file's metadata.
    """
    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(METADATA_KEY, b"{}"))
    frame = table.to_pandas()
    outputs = tuple(pd.unique(frame["output"]))
    components = list(meta.get("components", []))
    features = [c for c in frame.columns if c not in _META_COLUMNS and c not in components]
    n, m = len(frame) // len(outputs), len(outputs)
    values = frame[features].to_numpy(dtype=np.float64).reshape(n, m, len(features))
    component_values = None
    if components:
        component_values = frame[components].to_numpy(dtype=np.float64).reshape(
            n, m, len(components)
        ).transpose(0, 2, 1)
    explanation = Explanation(
        case_ids=tuple(frame["case_id"].to_numpy()[::m]),
        features=tuple(features),
        outputs=outputs,
        values=values.transpose(0, 2, 1),
        base_values=frame["base_value"].to_numpy(dtype=np.float64).reshape(n, m),
        output_space=meta.get("output_space", ""),
        method=meta.get("method", ""),
        components=tuple(components),
        component_values=component_values,
    )
    return explanation, frame["fold"].to_numpy()[::m], meta


def maps_frame(case_id: str, maps: list[FeatureMap]) -> pd.DataFrame:
    """One row per shown pixel of each map: the table behind the case page's map figures."""
    frames = []
    for rank, item in enumerate(maps):
        rows, columns = np.indices(item.image.shape)
        frames.append(
            pd.DataFrame(
                {
                    "case_id": case_id,
                    "feature": item.feature,
                    "rank": rank,
                    "kind": item.kind,
                    "output": item.output,
                    "slice_index": item.slice_index,
                    "window": item.window,
                    "stride": item.stride,
                    "spacing_row": item.spacing[0],
                    "spacing_column": item.spacing[1],
                    "spacing_slice": item.slice_spacing,
                    "min_coverage": item.min_coverage,
                    "roi_voxels": item.roi_voxels,
                    "exponent": item.exponent,
                    "whole_roi": item.whole_roi,
                    "engine": item.engine,
                    "row": rows.ravel(),
                    "column": columns.ravel(),
                    "image": item.image.ravel().astype(np.float64),
                    "roi": item.roi.ravel(),
                    "window_voxels": item.window_voxels.ravel().astype(np.int64),
                    "value": item.values.ravel(),
                },
                columns=list(_MAP_COLUMNS),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_MAP_COLUMNS)


def maps_from_frame(frame: pd.DataFrame) -> dict[str, list[FeatureMap]]:
    """Case id -> its maps in rank order (the inverse of :func:`maps_frame`)."""
    out: dict[str, list[FeatureMap]] = {}
    for (case_id, _, feature), part in frame.groupby(["case_id", "rank", "feature"], sort=True):
        shape = (int(part["row"].max()) + 1, int(part["column"].max()) + 1)
        first = part.iloc[0]
        out.setdefault(str(case_id), []).append(
            FeatureMap(
                feature=str(feature),
                slice_index=int(first["slice_index"]),
                image=part["image"].to_numpy().reshape(shape),
                roi=part["roi"].to_numpy(dtype=bool).reshape(shape),
                values=part["value"].to_numpy(dtype=np.float64).reshape(shape),
                window=int(first["window"]),
                stride=int(first["stride"]),
                spacing=(float(first["spacing_row"]), float(first["spacing_column"])),
                window_voxels=part["window_voxels"].to_numpy(dtype=np.int64).reshape(shape),
                min_coverage=float(first["min_coverage"]),
                roi_voxels=int(first["roi_voxels"]),
                whole_roi=float(first["whole_roi"]),
                # NaN for a planar image; a column of planar maps only reads back as nulls.
                slice_spacing=float(pd.to_numeric(part["spacing_slice"]).iloc[0]),
                exponent=int(first["exponent"]),
                kind=str(first["kind"]),
                output=str(first["output"]),
                # maps written before the engine was recorded were all computed on windows
                engine=str(first["engine"]) if "engine" in part else WINDOWS,
            )
        )
    return out


def write_maps(path: Path, frame: pd.DataFrame, info: dict) -> Path:
    """Write a maps table atomically with ``info`` (e.g. the inputs' key) as metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(info).encode()})
    return atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def saliency_frame(case_id: str, item: SaliencyMap) -> pd.DataFrame:
    """One row per pixel of a case's shown CNN input: the table behind its saliency figure."""
    rows, columns = np.indices(item.image.shape)
    return pd.DataFrame(
        {
            "case_id": case_id,
            "plane": item.plane,
            "score": item.score,
            "row": rows.ravel(),
            "column": columns.ravel(),
            "image": item.image.ravel(),
            "roi": item.roi.ravel(),
            "value": item.values.ravel(),
        },
        columns=list(_SALIENCY_COLUMNS),
    )


def component_weights_frame(item: SaliencyMap) -> pd.DataFrame:
    """The SHAP weight of each principal component in a saliency map."""
    return pd.DataFrame({"component": list(item.components), "shap_weight": item.weights})


def write_saliency(path: Path, maps: dict[str, SaliencyMap], info: dict) -> Path:
    """Write the cases' saliency maps atomically, their weights and ``info`` as metadata."""
    frames = [saliency_frame(case_id, item) for case_id, item in maps.items()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {c: pd.Series(dtype=object if c in ("case_id", "plane") else np.float64)
         for c in _SALIENCY_COLUMNS}
    )
    weights = {case_id: dict(zip(item.components, item.weights.tolist()))
               for case_id, item in maps.items()}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {METADATA_KEY: json.dumps({**info, "weights": weights}).encode()}
    )
    return atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def read_saliency(path: Path) -> dict[str, SaliencyMap]:
    """Case id -> its saliency map (the inverse of :func:`write_saliency`)."""
    weights = read_metadata(path).get("weights", {})
    out = {}
    for case_id, part in pd.read_parquet(path).groupby("case_id", sort=False):
        shape = (int(part["row"].max()) + 1, int(part["column"].max()) + 1)
        first = part.iloc[0]
        by_component = weights.get(str(case_id), {})
        out[str(case_id)] = SaliencyMap(
            plane=str(first["plane"]),
            image=part["image"].to_numpy(dtype=np.float64).reshape(shape),
            roi=part["roi"].to_numpy(dtype=bool).reshape(shape),
            values=part["value"].to_numpy(dtype=np.float64).reshape(shape),
            score=float(first["score"]),
            components=tuple(by_component),
            weights=np.asarray(list(by_component.values()), dtype=np.float64),
        )
    return out
