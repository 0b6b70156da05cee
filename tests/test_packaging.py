"""Packaging: every subpackage is listed, the catalogue installs, the README's commands are CI's."""

from __future__ import annotations

import tomllib

from conftest import REPO


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(
        tomllib.loads(
            (REPO / "pyproject.toml").read_text(encoding="utf-8")
        )["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "radiopipe").rglob("__init__.py")
    }
    assert found | {"radiopipe.catalogue"} == listed


def test_catalogue_installs_as_package_data():
    from importlib import resources

    installed = {
        p.name for p in resources.files("radiopipe.catalogue").iterdir() if p.name.endswith(".yaml")
    }
    assert installed == {p.name for p in (REPO / "features").glob("*.yaml")}


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if "pytest" in line)
    assert command in readme
