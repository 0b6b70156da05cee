"""The strict base of every config section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A config section: unknown keys are errors, numbers must be finite (no inf or NaN), and a
    validated section is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
