"""The model health banner: the train stage's most severe findings, above everything else on the
report and on every page made with the model's bundle; and the verdict of a case's prediction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup

from radiopipe.models.health import learned_nothing
from radiopipe.records import HealthFinding
from radiopipe.report.templating import render

BANNER_ID = "model-health"
TIE = 1e-9  # top probabilities this close predict no class
_STYLE = {
    "error": "border:2px solid #a4161a;background:#fdecea;color:#5c0b0e",
    "warning": "border:2px solid #9a6700;background:#fff8e1;color:#4d3400",
}


def health_banner(health: Sequence[HealthFinding]) -> Markup:
    """The findings as a banner (empty without findings), most severe first.

    Parameters
    ----------
    health : sequence of HealthFinding
        From the validation record or the bundle's manifest.
    """
    if not health:
        return Markup()
    ordered = sorted(health, key=lambda f: (f.severity != "error", f.code))
    if learned_nothing(ordered):
        headline = ("This model learned nothing: its predictions are the same for every case. "
                    "Do not use its probabilities, explanations or case pages.")
    elif ordered[0].severity == "error":
        headline = "This model failed a health check: do not use it before the cause is fixed."
    else:
        headline = "Model health: read this model's results with care."
    return render("health.html.j2", banner_id=BANNER_ID, severity=ordered[0].severity,
                  style=_STYLE[ordered[0].severity], headline=headline, findings=ordered)


def prediction_verdict(label: str | None, probabilities: Mapping[str, float]) -> str:
    """' (correct)', ' (misclassified)', or ' (tie: no class predicted)' when the highest
    probabilities are equal; empty without a known label."""
    if label is None:
        return ""
    top = sorted(probabilities.values(), reverse=True)
    if len(top) > 1 and top[0] - top[1] <= TIE:
        return " (tie: no class predicted)"
    predicted = max(probabilities, key=probabilities.get)
    return " (correct)" if label == predicted else " (misclassified)"
