"""Reference projects: natural-language requirement documents that the benchmark asks a model to build.

Each project is one TOML file in this folder (format: README.md here). A user's own project is loaded
from any path with `load_project_file`, validated by the same pydantic model (`extra="forbid"`), so a
typo in a key is an error that names the key.

Suites pick projects by time budget: `smoke` is the one small project that finishes in minutes with a
135M model on two CPU cores; `standard` adds the other small and medium projects; `full` is everything.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner.errors import ConfigError

PROJECTS_DIR = Path(__file__).resolve().parent

SizeClass = Literal["small", "medium", "large"]
SUITES: dict[str, str] = {
    "smoke": "one small project (todo): minutes with the 135M default model on 2 CPU cores",
    "standard": "every small and medium project: about an hour with a 27B model on a 64 GB laptop",
    "full": "every reference project",
}
SMOKE_PROJECT = "todo"
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_CAPABILITY = re.compile(r"^[a-z]+ [a-z][a-z0-9_]*$")


class Project(BaseModel):
    """One requirement document plus what a good answer must cover (for coverage scoring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="short snake_case identifier, unique among projects")
    title: str = Field(min_length=1, description="one-line human title")
    size: SizeClass = Field(description="size class: small, medium or large (suites pick by size)")
    requirements: str = Field(min_length=20, description="the requirement text the model reads")
    entities: list[str] = Field(
        min_length=1, description="snake_case plural table names a good database design contains"
    )
    capabilities: list[str] = Field(
        min_length=1, description='"<verb> <table>" operations a good API offers, e.g. "create todos"'
    )

    @field_validator("id")
    @classmethod
    def _snake_id(cls, value: str) -> str:
        if not _SNAKE.match(value):
            raise ValueError(f"{value!r} is not snake_case (letters, digits, underscores)")
        return value

    @field_validator("entities")
    @classmethod
    def _snake_entities(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _SNAKE.match(value):
                raise ValueError(f"entity {value!r} is not a snake_case table name")
        return values

    @field_validator("capabilities")
    @classmethod
    def _verb_table(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _CAPABILITY.match(value):
                raise ValueError(f'capability {value!r} is not "<verb> <snake_case table>"')
        return values

    @property
    def requirement_text(self) -> str:
        return self.requirements.strip()


def load_project_file(path: str | Path) -> Project:
    """Read and validate a project file; every problem is a ConfigError naming the file and the key."""
    file = Path(path).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"project file {file} does not exist", hint="give the path of a .toml project file"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read project file {file}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"project file {file} is not valid TOML: {err}") from None
    try:
        return Project.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise ConfigError(
            f"project file {file}: {where}: {first['msg']}{more}",
            hint="see runner/projects/README.md for the format",
        ) from None


@cache
def builtin_projects() -> dict[str, Project]:
    """The reference projects shipped with lapbench, by id (sorted by size class, then id)."""
    order = {"small": 0, "medium": 1, "large": 2}
    projects = [load_project_file(f) for f in sorted(PROJECTS_DIR.glob("*.toml"))]
    projects.sort(key=lambda p: (order[p.size], p.id))
    return {p.id: p for p in projects}


def suite_projects(suite: str) -> list[Project]:
    """The projects of a suite, smallest first."""
    projects = builtin_projects()
    if suite == "smoke":
        return [projects[SMOKE_PROJECT]]
    if suite == "standard":
        return [p for p in projects.values() if p.size in ("small", "medium")]
    if suite == "full":
        return list(projects.values())
    if suite in projects:  # a single built-in project by id
        return [projects[suite]]
    raise ConfigError(
        f"unknown suite {suite!r}",
        hint=f"use one of {', '.join(SUITES)} or a project id ({', '.join(projects)})",
    )


def resolve_projects(suite: str, project_files: Sequence[str | Path] = ()) -> list[Project]:
    """`--project-file` replaces the suite; otherwise the suite's projects."""
    if project_files:
        return [load_project_file(f) for f in project_files]
    return suite_projects(suite)
