"""Reference projects, suites, and user project files (same format, clear errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ConfigError
from runner.projects import builtin_projects, load_project_file, resolve_projects, suite_projects

REQUIRED = {"todo", "discussion_board", "community", "shopping", "hr_time_tracking", "library_loans",
            "clinic_appointments"}  # fmt: skip
GOOD = """
id = "pet_clinic"
title = "Pet clinic"
size = "small"
requirements = "Owners register pets; vets record visits for each pet."
entities = ["owners", "pets", "visits"]
capabilities = ["create pets", "list visits"]
"""


def test_reference_projects_cover_the_required_domains() -> None:
    projects = builtin_projects()
    assert len(projects) >= 8 and set(projects) >= REQUIRED
    for project in projects.values():
        assert project.entities and project.capabilities
        # every capability names one of the project's tables
        tables = set(project.entities)
        assert all(c.split(" ", 1)[1] in tables for c in project.capabilities), project.id
        assert len(project.requirement_text.split()) < 250, "requirements must stay short for 8k contexts"


def test_suites() -> None:
    assert [p.id for p in suite_projects("smoke")] == ["todo"]
    standard = suite_projects("standard")
    full = suite_projects("full")
    assert {p.size for p in standard} == {"small", "medium"}
    assert len(full) == len(builtin_projects()) > len(standard) > 1
    assert [p.id for p in suite_projects("shopping")] == ["shopping"]
    with pytest.raises(ConfigError, match="unknown suite"):
        suite_projects("huge")


def test_user_project_file_replaces_the_suite(tmp_path: Path) -> None:
    file = tmp_path / "pets.toml"
    file.write_text(GOOD)
    assert [p.id for p in resolve_projects("smoke", [file])] == ["pet_clinic"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('colour = "red"\n', "colour: Extra inputs are not permitted"),
        ('size = "huge"', "size:"),
        ('capabilities = ["make pets happy"]', "capabilities"),
        ('entities = ["Pets"]', "entities"),
        ("id = [", "not valid TOML"),
    ],
)
def test_bad_project_files_name_the_problem(tmp_path: Path, change: str, message: str) -> None:
    key = change.split(" ", 1)[0]
    lines = [line for line in GOOD.splitlines() if not line.startswith(key + " ")]
    file = tmp_path / "bad.toml"
    file.write_text("\n".join(lines) + "\n" + change + "\n")
    with pytest.raises(ConfigError) as err:
        load_project_file(file)
    assert str(file) in err.value.message and message in err.value.message
    assert err.value.exit_code == 2


def test_missing_project_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_project_file("/nonexistent/project.toml")
