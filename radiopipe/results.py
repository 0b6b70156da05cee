"""What the public API returns: small result objects with tables behind them.

Each shows a summary and its main table in a notebook (``_repr_html_``) and a one-line summary
elsewhere (``repr``); the data stay plain pandas DataFrames and dicts, and ``plot`` methods
return matplotlib Figures (never pyplot's global state).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup

from radiopipe.records import ValidationRecord
from radiopipe.table import feature_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from radiopipe.explain.feature_maps import FeatureMap

_SHOWN_ROWS = 5


@cache
def _notebook_figure_class() -> type:
    """A matplotlib Figure that shows itself as a PNG in Jupyter without pyplot (matplotlib is
    imported on the first plot, so that extracting features never loads it)."""
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return NotebookFigure


def _summary_html(title: str, lines: list[str], table: pd.DataFrame | None = None) -> Markup:
    items = Markup().join(Markup("<li>{}</li>").format(line) for line in lines)
    body = Markup("<strong>{}</strong><ul>{}</ul>").format(title, items)
    # pandas escapes the table's cells itself (to_html's escape=True)
    return body + (Markup(table.to_html(max_rows=2 * _SHOWN_ROWS)) if table is not None else "")


@dataclass(frozen=True)
class Extraction:
    """A cohort's feature table.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per case that has features (``features.parquet``).
    failures : dict
        ``case_id -> reason`` of the cases that failed (also in ``failures/``).
    counts : dict
        Cases ``computed``, ``reused`` (unchanged since an earlier run) and ``failed``.
    path : Path
        The written ``features.parquet``.
    """

    table: pd.DataFrame
    failures: dict[str, str]
    counts: dict[str, int]
    path: Path

    @property
    def failed_cases(self) -> list[str]:
        """Ids of the cases without features."""
        return list(self.failures)

    @property
    def features(self) -> pd.DataFrame:
        """The feature columns alone, indexed by ``case_id``."""
        return self.table.set_index("case_id")[feature_columns(self.table)]

    def _lines(self) -> list[str]:
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items())
        size = f"{len(self.table)} case(s) x {len(feature_columns(self.table))} features"
        return [f"{size} ({counts})", *(f"{case}: {why}" for case, why in self.failures.items())]

    def __repr__(self) -> str:
        return f"Extraction({self._lines()[0]})"

    def _repr_html_(self) -> str:
        return _summary_html("Feature extraction", self._lines(), self.table)


@dataclass(frozen=True)
class Robustness:
    """The ICC of every feature under perturbations (``robustness.parquet``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per feature, perturbation kind and ICC kind: ``feature, modality, image_type,
        family, perturbation, icc_kind, icc, ci_low, ci_high, n_cases, n_perturbations``.
    failures : dict
        ``case_id -> reason`` of the cases left out (also in ``robustness/failures/``).
    threshold : float
        The ICC at or above which a feature counts as robust (``robustness.threshold``).
    path : Path
        The written ``robustness.parquet``.
    """

    table: pd.DataFrame
    failures: dict[str, str]
    threshold: float
    path: Path

    @property
    def failed_cases(self) -> list[str]:
        """Ids of the cases left out."""
        return list(self.failures)

    def summary(self, icc_kind: str = "ICC(1,1)") -> pd.DataFrame:
        """The fraction of features whose ``icc_kind`` is at or above the threshold, by
        modality, family and perturbation kind (columns ``robust``, ``n_features``)."""
        rows = self.table[self.table["icc_kind"] == icc_kind].assign(
            modality=lambda t: t["modality"].fillna("-"),
            robust=lambda t: t["icc"] >= self.threshold,
        )
        grouped = rows.groupby(["modality", "family", "perturbation"], sort=True)
        return grouped.agg(robust=("robust", "mean"), n_features=("feature", "nunique"))

    def _lines(self) -> list[str]:
        robust = (self.table["icc"] >= self.threshold).mean() if len(self.table) else 0.0
        head = (f"{self.table['feature'].nunique()} features, "
                f"{self.table['perturbation'].nunique()} perturbation kind(s): "
                f"{100 * robust:.0f}% of ICCs at or above {self.threshold:g}")
        return [head, *(f"{case}: {why}" for case, why in self.failures.items())]

    def __repr__(self) -> str:
        return f"Robustness({self._lines()[0]})"

    def _repr_html_(self) -> str:
        return _summary_html("Feature robustness", self._lines(), self.summary())


@dataclass(frozen=True)
class Training:
    """The validated and compared models (the content of ``metrics.json``).

    Attributes
    ----------
    record : ValidationRecord
        Everything the train stage measured.
    """

    record: ValidationRecord

    @property
    def roc_auc(self) -> float:
        """The primary model's held-out ROC-AUC (macro one-vs-rest beyond two classes)."""
        value = self.record.metrics["roc_auc"]
        return float("nan") if value is None else float(value)  # None: undefined in JSON

    @property
    def comparison(self) -> pd.DataFrame:
        """One row per validated model and feature set: held-out metrics, ROC-AUC's 95% CI."""
        rows = []
        for entry in self.record.comparison:
            interval = entry.ci["roc_auc"] or [None, None]
            rows.append({"model": entry.model, "feature_set": entry.feature_set,
                         "primary": entry.primary, **entry.metrics,
                         "roc_auc_ci_low": interval[0], "roc_auc_ci_high": interval[1]})
        return pd.DataFrame(rows).astype({"roc_auc": float})

    @property
    def per_fold(self) -> pd.DataFrame:
        """The primary model's ROC-AUC on each outer fold."""
        return pd.DataFrame(self.record.per_fold)

    def _lines(self) -> list[str]:
        record = self.record
        return [f"primary model {record.model}: held-out ROC-AUC {self.roc_auc:.3f}",
                f"best compared: {record.best_model}", record.validation["scheme"]]

    def __repr__(self) -> str:
        return f"Training({self._lines()[0]})"

    def _repr_html_(self) -> str:
        return _summary_html("Models", self._lines(), self.comparison)


@dataclass(frozen=True)
class Explanations:
    """SHAP values of the primary model on its held-out rows.

    Attributes
    ----------
    values : pandas.DataFrame
        One row per (case, explained output): ``case_id``, ``fold``, ``output``,
        ``base_value``, ``model_output`` and one column of SHAP values per model input.
    method : str
        The explainer (tree, linear or permutation).
    path : Path
        ``shap_values.parquet``.
    """

    values: pd.DataFrame
    method: str
    path: Path

    @property
    def inputs(self) -> list[str]:
        """The explained model inputs."""
        meta = ("case_id", "fold", "output", "base_value", "model_output")
        return [c for c in self.values.columns if c not in meta]

    def importance(self) -> pd.DataFrame:
        """Mean absolute SHAP value per input over rows and outputs, largest first."""
        mean_abs = self.values[self.inputs].abs().mean(axis=0)
        table = mean_abs.sort_values(ascending=False, kind="stable").rename("mean_abs_shap")
        return table.rename_axis("feature").reset_index()

    def plot(self, top: int = 10) -> Figure:
        """Bar chart of the ``top`` most important inputs."""
        table = self.importance().head(top).iloc[::-1]
        figure = _notebook_figure_class()(figsize=(6, 0.35 * len(table) + 1), layout="constrained")
        axes = figure.add_subplot()
        axes.barh(table["feature"], table["mean_abs_shap"], color="#3b75af")
        axes.set_xlabel("mean |SHAP value|")
        return figure

    def __repr__(self) -> str:
        return f"Explanations({self.values['case_id'].nunique()} case(s), {self.method})"

    def _repr_html_(self) -> str:
        lines = [f"{self.values['case_id'].nunique()} held-out case(s) explained by {self.method}"]
        return _summary_html("Explanations", lines, self.importance().head(10))


@dataclass(frozen=True)
class Document:
    """A written HTML page: the run's report or one new case's explanation.

    Attributes
    ----------
    path : Path
    failed_cases : list of str
        Cases that could not be processed (an explanation page then is not written).
    """

    path: Path
    failed_cases: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Document({self.path.name})"

    def _repr_html_(self) -> str:
        try:  # relative to the working folder (a notebook's own), where Jupyter resolves links
            target = os.path.relpath(self.path)
        except ValueError:  # on another drive (Windows): no relative path exists
            target = self.path.name
        failed = f" ({len(self.failed_cases)} case(s) failed)" if self.failed_cases else ""
        return Markup('<strong>Written</strong>: <a href="{}">{}</a>{}').format(
            Path(target).as_posix(), self.path.name, failed)


@dataclass(frozen=True)
class Run:
    """A whole run: extraction, models and report.

    Attributes
    ----------
    extraction : Extraction
    training : Training
    report : Document
    """

    extraction: Extraction
    training: Training
    report: Document

    @property
    def failed_cases(self) -> list[str]:
        """Cases without features (the command line's exit code is 1 when any)."""
        return self.extraction.failed_cases

    def __repr__(self) -> str:
        return f"Run({self.training._lines()[0]}; report {self.report.path.name})"

    def _repr_html_(self) -> str:
        return "".join(part._repr_html_() for part in (self.extraction, self.training, self.report))


@dataclass(frozen=True)
class Predictions:
    """New cases' predicted classes and probabilities.

    Attributes
    ----------
    table : pandas.DataFrame
        ``case_id``, ``patient_id``, ``predicted`` and ``proba__<class>`` columns.
    failed_cases : list of str
        Cases whose extraction failed (no prediction).
    path : Path
        The written ``predictions.csv``.
    """

    table: pd.DataFrame
    failed_cases: list[str]
    path: Path

    def __repr__(self) -> str:
        return f"Predictions({len(self.table)} case(s), {len(self.failed_cases)} failed)"

    def _repr_html_(self) -> str:
        lines = [f"{len(self.table)} case(s) predicted, {len(self.failed_cases)} failed"]
        return _summary_html("Predictions", lines, self.table)


@dataclass(frozen=True)
class FeatureMaps:
    """Voxel-wise maps of some features over one case's largest ROI slice.

    Attributes
    ----------
    maps : list of FeatureMap
        See :class:`radiopipe.explain.feature_maps.FeatureMap`.
    """

    maps: list[FeatureMap]

    def frame(self) -> pd.DataFrame:
        """One row per ROI voxel of the slice: its position, the ROI voxels in its window (0:
        not shown) and each feature's value there."""
        if not self.maps:
            return pd.DataFrame(columns=["row", "column", "window_voxels"])
        rows, columns = np.nonzero(self.maps[0].roi)
        values = {item.feature: item.values[rows, columns] for item in self.maps}
        return pd.DataFrame({"row": rows, "column": columns,
                             "window_voxels": self.maps[0].window_voxels[rows, columns], **values})

    def plot(self) -> Figure:
        """The slice's image and one panel per map (values over the ROI)."""
        figure = _notebook_figure_class()(
            figsize=(3.2 * (len(self.maps) + 1), 3.4), layout="constrained"
        )
        panels = figure.subplots(1, len(self.maps) + 1, squeeze=False)[0]
        if self.maps:
            first = self.maps[0]
            panels[0].imshow(first.image, cmap="gray")
            panels[0].contour(first.roi, levels=[0.5], colors="#e8c547", linewidths=1)
            panels[0].set_title(f"image, slice {first.slice_index}", fontsize=9)
        for axes, item in zip(panels[1:], self.maps):
            axes.imshow(item.image, cmap="gray")
            shown = axes.imshow(np.ma.masked_invalid(item.values), cmap="magma", alpha=0.85)
            figure.colorbar(shown, ax=axes, shrink=0.8)
            axes.set_title(item.feature.replace("__", "\n", 1), fontsize=8)
        for axes in panels:
            axes.set_axis_off()
        return figure

    def __repr__(self) -> str:
        return f"FeatureMaps({', '.join(item.feature for item in self.maps)})"


@dataclass(frozen=True)
class BackendChoice:
    """Which feature backend a setting runs, and why.

    Attributes
    ----------
    requested : str
        The configured backend (e.g. 'auto').
    backend : str
        The backend that runs ('cupy' or 'native' for 'auto').
    reason : str
        What the GPU probe found when it was not used; empty when the GPU runs.
    """

    requested: str
    backend: str
    reason: str

    def __repr__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"BackendChoice({self.requested} -> {self.backend}{why})"

    def _repr_html_(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return Markup("backend <code>{}</code> runs <code>{}</code>{}").format(
            self.requested, self.backend, why)
