"""The report's templates: one Jinja2 environment over ``radiopipe/report/templates``.

Every value a template prints is escaped (autoescaping), once: text that is already HTML is a
:class:`markupsafe.Markup` (a rendered template, a :func:`macro`'s output) and prints as it is. A
name the template uses but the caller did not pass is an error, never an empty string.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup


@cache
def environment() -> Environment:
    """The environment (built once, on first use)."""
    return Environment(
        loader=PackageLoader("radiopipe.report", "templates"),
        autoescape=select_autoescape(("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context) -> Markup:
    """Render the template ``name`` (e.g. ``'page.html.j2'``) with ``context``."""
    return Markup(environment().get_template(name).render(**context))


def macro(name: str):
    """The macro ``name`` of ``macros.html.j2`` as a function returning :class:`Markup`."""
    return getattr(environment().get_template("macros.html.j2").module, name)
