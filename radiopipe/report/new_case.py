"""The explanation page of a new case (``radiopipe explain --model BUNDLE --case ID``)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from radiopipe.config import CNNConfig, DataConfig, ExplainConfig, FeatureConfig
from radiopipe.explain.anatomy import embedding_pca
from radiopipe.explain.cnn_saliency import SaliencyMap, cnn_saliency, component_shap
from radiopipe.explain.explainers import Explanation, explain
from radiopipe.explain.stage import SHAP_FILE, case_feature_maps, explained_output, top_features
from radiopipe.explain.store import write_explanation
from radiopipe.manifest import Case
from radiopipe.models.bundle import Bundle
from radiopipe.models.validation import predict_codes
from radiopipe.report.case_pages import CaseView, case_section
from radiopipe.report.layout import write_page


def write_new_case_page(bundle: Bundle, case: Case, X: pd.DataFrame, features: FeatureConfig,
                        data: DataConfig, settings: ExplainConfig, out_dir: Path) -> Path:
    """Predict, explain and map one new case with a bundle's model; write its page.

    A bundle with CNN columns adds the case's CNN saliency map (the bundle's PCA and backbone).

    Parameters
    ----------
    bundle : Bundle
    case : Case
        The case, as its manifest gives it (for its image and mask).
    X : pandas.DataFrame
        Its model inputs (one row, the bundle's column order).
    features, data : FeatureConfig, DataConfig
        The bundle's extraction and reading settings (for the feature maps).
    settings : ExplainConfig
        Explanation budget and feature-map settings.
    out_dir : Path
        Folder for ``explain-<case_id>.html``, its CSV tables and ``shap_values.parquet``.

    Returns
    -------
    Path
        The page.
    """
    out_dir = Path(out_dir)
    classes = bundle.classes
    explanation = explain(bundle.estimator, X, classes, max_evals=settings.max_evals)
    info = {"model": bundle.manifest["model"], "config_hash": bundle.manifest["config_hash"]}
    write_explanation(out_dir / SHAP_FILE, explanation, [-1], info)
    proba = predict_codes(bundle.estimator, X, len(classes))[0]
    probabilities = {c: float(p) for c, p in zip(classes, proba, strict=True)}
    predicted = classes[int(np.argmax(proba))]
    k = explained_output(explanation, predicted)
    mapped = top_features(explanation, case.case_id, predicted, settings.feature_maps)
    view = CaseView(
        case_id=case.case_id,
        label=case.label or None,
        probabilities=probabilities,
        source=f"New case, predicted and explained by the model bundle "
        f"'{bundle.manifest['model']}' (refitted on all training cases; config hash "
        f"{bundle.manifest['config_hash'][:12]}). Cohort percentiles need the training data and "
        "are not shown.",
        output=explanation.outputs[k],
        output_space=explanation.output_space,
        method=explanation.method,
        base_value=float(explanation.base_values[0, k]),
        shap=pd.Series(explanation.values[0, :, k], index=list(explanation.features)),
        values=X.iloc[0],
        cohort=None,
        maps=case_feature_maps(case, mapped, features, data, settings.feature_maps),
        saliency=_saliency(bundle, case, explanation, k, data, settings),
    )
    title = f"Explanation of case {case.case_id}"
    body = f"<h1>{escape(title)}</h1>" + case_section(view, out_dir)
    return write_page(out_dir / f"explain-{case.case_id}.html", title, body)


def _saliency(bundle: Bundle, case: Case, explanation: Explanation, output: int,
              data: DataConfig, settings: ExplainConfig) -> SaliencyMap | None:
    """The case's CNN saliency under the bundle's model; None without CNN columns."""
    cnn = bundle.manifest["settings"].get("cnn")
    pca = embedding_pca(bundle.estimator)
    wanted = settings.feature_maps.enabled and bool(explanation.components)
    if cnn is None or pca is None or not wanted:
        return None
    weights = None if cnn["weights"] is None else Path(cnn["weights"])
    return cnn_saliency(case, CNNConfig.model_validate(cnn["config"]), data, pca,
                        component_shap(explanation, 0, output), weights=weights)
