"""Packaging: every subpackage is listed, the catalogue installs, the README's commands are CI's."""

from __future__ import annotations

import re
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


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements() -> list[str]:
    project = _pyproject()["project"]
    return [*project["dependencies"], *(r for extra in project["optional-dependencies"].values()
                                        for r in extra)]


def _name(requirement: str) -> str:
    """A requirement's project name, normalised as PEP 503 does."""
    name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_dependencies_are_ranges_and_constraints_pin_each_of_them():
    requirements = _requirements()
    assert not [r for r in requirements if "==" in r], "exact pins belong in constraints.txt"
    names = [_name(r) for r in _pyproject()["project"]["dependencies"]]
    assert len(names) == len(set(names)), "a runtime dependency is listed twice"
    pinned = {
        _name(line): line.split("==", 1)[1]
        for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert {_name(r) for r in requirements} - {"cupy-cuda12x"} <= set(pinned)
    assert pinned["torch"] == "2.13.0", "no local label: the CPU build (2.13.0+cpu) must match"


def test_readme_and_ci_install_with_the_constraints():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    installs = re.findall(r"\.venv/bin/pip install [^&]*", readme)
    assert len(installs) == 2
    assert all(i.startswith(".venv/bin/pip install -c constraints.txt -e ") for i in installs)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash .ci/wheel_smoke" in ci


def test_version_has_one_source():
    import radiopipe

    project = _pyproject()
    assert "version" in project["project"]["dynamic"]
    assert "version" not in project["project"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "radiopipe.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", radiopipe.__version__)


def test_wheel_ships_py_typed():
    assert (REPO / "radiopipe" / "py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["radiopipe"]


def test_the_wheel_smoke_config_is_valid():
    from radiopipe.api import load_config

    config = load_config(REPO / "configs" / "smoke.yaml")
    assert config.config.data.builtin_options.cases_per_class == 12
