"""The model card: intended use, data, model, evaluation and limitations on one screen.

Saved beside the report as ``model_card.json`` too.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from markupsafe import Markup

from radiopipe.checks import Finding
from radiopipe.records import ValidationRecord
from radiopipe.report.performance import with_ci
from radiopipe.report.templating import render
from radiopipe.storage import atomic_write_json

SECTION_ID = "model-card"
MODEL_CARD_FILE = "model_card.json"
# Events per candidate feature below which selection finds chance associations (Peduzzi et al.
# 1996, J. Clin. Epidemiol. 49:1373, for logistic regression; machine-learning models need more).
MIN_EVENTS_PER_FEATURE = 10


def model_card(config: dict, record: ValidationRecord, findings: list[Finding],
               oof: pd.DataFrame) -> dict:
    """The card's content, from the resolved config, the metrics, the diagnostics and the
    held-out predictions' cohort (``label``, ``patient_id``: the events per candidate feature).

    ``health`` comes first: the train stage's model health findings (RPD007-RPD011), most
    severe first; empty for a healthy model.
    """
    task = record.task
    unit = config["data"]["grouping_unit"]
    validation = record.validation
    auc = with_ci(record.metrics["roc_auc"], record.confidence_intervals["roc_auc"])
    balanced = with_ci(record.metrics["balanced_accuracy"],
                       record.confidence_intervals["balanced_accuracy"])
    return {
        "health": [f"{h.code} ({h.severity}): {h.message}" for h in record.health],
        "intended_use": config["report"]["intended_use"],
        "task": f"classify a region of interest as {', '.join(task.classes)}",
        "data": (f"{task.n_cases} cases from {task.n_patients} {unit}"
                 f" ({len(task.failed_cases)} failed feature extraction)"),
        "model": (f"{record.model} on {record.features.n_features} radiomics features "
                  f"({record.features.backend} engine)"
                  + (f" and clinical covariates {', '.join(record.features.clinical)}"
                     if record.features.clinical else "")),
        "evaluation": (f"{validation['scheme']}; ROC-AUC {auc}, balanced accuracy {balanced} "
                       f"(95% CIs by bootstrap over {unit})"),
        "bundle": f"{record.final_model['bundle']}/ (refitted on all cases; "
        "'radiopipe predict' and 'radiopipe explain' apply it to new cases)",
        "limitations": _limitations(config, record, findings, oof),
    }


def model_card_section(card: dict, run_dir: Path) -> Markup:
    """The card as HTML; its content goes to ``model_card.json``."""
    atomic_write_json(run_dir / MODEL_CARD_FILE, card)
    rows = [(key.replace("_", " "), _text(value))
            for key, value in card.items() if key != "limitations"]
    return render("model_card.html.j2", section_id=SECTION_ID, rows=rows,
                  limitations=card["limitations"])


def _text(value) -> str:
    """A card entry as text: lists (the health findings) joined, an empty one as 'no finding'."""
    if isinstance(value, list):
        return "; ".join(value) or "no finding"
    return str(value)


def _limitations(config: dict, record: ValidationRecord, findings: list[Finding],
                 oof: pd.DataFrame) -> list[str]:
    items = list(config["report"]["limitations"])
    warning = events_per_feature_warning(config, record, oof)
    if warning:
        items.append(warning)
    design = record.validation["design"]
    if design != "external":
        items.append("Validated inside one cohort (cross-validation or a held-out split of it); "
                     "performance on other scanners, sites or populations is unknown until "
                     "tested externally.")
    if record.task.n_patients < 100:
        items.append(f"Small cohort ({record.task.n_patients} "
                     f"{config['data']['grouping_unit']}): wide "
                     "confidence intervals, and features may be selected by chance.")
    items.append("SHAP values explain the model, not the disease: a feature that drives the "
                  "prediction is associated with the label in this cohort, not a cause of it.")
    items.append("Radiomics features depend on acquisition and reconstruction settings; apply "
                 "the model only to images acquired and segmented like the training cases.")
    items += [f"{f.code} ({f.title}): {f.message}" for f in findings
              if f.severity in ("error", "warning")]
    return items


def events_per_feature_warning(config: dict, record: ValidationRecord,
                               oof: pd.DataFrame) -> str | None:
    """The small-sample warning: the smallest class's patients (the events) per candidate input
    column, and per column the selection keeps; None at or above ``MIN_EVENTS_PER_FEATURE``.
    The events are the patients of the smallest class (for a binary outcome, usually the
    positive one)."""
    unit = config["data"]["grouping_unit"]
    patients = oof.drop_duplicates("patient_id")["label"].value_counts()
    if len(patients) < 2:
        return None
    smallest, events = str(patients.idxmin()), int(patients.min())
    features = record.features
    candidates = features.n_features + features.n_embedding + len(features.clinical)
    if candidates == 0 or events / candidates >= MIN_EVENTS_PER_FEATURE:
        return None
    text = (f"Few events per feature: {events} of the {int(patients.sum())} {unit} are in the "
            f"smallest class ({smallest}), {events / candidates:.2g} events per candidate "
            f"feature ({candidates} candidates)")
    preprocessing = config["model"]["preprocessing"]
    if preprocessing["selection"] != "none" and preprocessing["n_features"]:
        kept = min(int(preprocessing["n_features"]), candidates)
        text += f" and {events / kept:.2g} per feature kept by the in-fold selection ({kept})"
    return (text + f". Below {MIN_EVENTS_PER_FEATURE} events per candidate feature, selection "
            "finds chance associations and any estimate made on the patients who chose the "
            "features is optimistic; only the nested, held-out estimate above is meaningful, "
            "and its interval is wide.")
