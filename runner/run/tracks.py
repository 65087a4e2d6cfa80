"""Tracks (`lapbench run --track`, DESIGN.md §4.5): controlled inputs, so that models are compared on the
same work.

- full: the model writes every phase; its own tests run against its own realize.
- realize: the model writes only the logic (the realize phase) for the project's gold analysis, database
  and interface; the gold tests judge it. The gold tests never appear in a prompt.
- test: the model writes only the tests (the test phase) for the gold database and interface; they run
  against the gold realize (they should pass) and against its mutants (they should fail).

The track is part of the run's options, so its identity (runner.run.identity): runs of different tracks
are never resumed into each other, and `lapbench compare` refuses to rank them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from runner.errors import ConfigError
from runner.gold import gold_projects, load_gold
from runner.projects import Project
from runner.run.record import PHASE_NAMES

if TYPE_CHECKING:
    from runner.run.pipeline import ProjectOutcome, ProjectPipeline

Track = Literal["full", "realize", "test"]
TRACKS: tuple[Track, ...] = ("full", "realize", "test")
TRACK_PHASES: dict[str, tuple[str, ...]] = {"full": PHASE_NAMES, "realize": ("realize",), "test": ("test",)}
"""The phases the model writes in each track."""


def check_track(track: str, projects: Sequence[Project]) -> None:
    """The realize and test tracks need each project's gold answer with its gold realize."""
    if track not in TRACKS:
        raise ConfigError(f"unknown track {track!r}", hint=f"use one of: {', '.join(TRACKS)}")
    if track == "full":
        return
    known = set(gold_projects())
    lacking = [p.id for p in projects if p.id not in known or load_gold(p.id).realize is None]
    if lacking:
        raise ConfigError(
            f"the {track} track needs a gold answer with a gold realize; {', '.join(lacking)} has none",
            hint="run the full track for these projects, or pick a suite of reference projects",
        )


def run_track(pipeline: ProjectPipeline, track: str) -> ProjectOutcome:
    """The one phase of a controlled track, on the project's gold documents."""
    from runner.run.pipeline import ProjectOutcome
    from runner.run.realize_phase import realize_phase

    gold = load_gold(pipeline.project.id)
    pipeline.tables = gold.database.tables()
    pipeline.operations = list(gold.interface.operations)
    pipeline.components = list(gold.interface.components)
    pipeline.actors = frozenset(a.name for a in gold.analyze.actors)
    if track == "test":
        phase = pipeline._tests()
    else:
        phase = realize_phase(pipeline, gold.analyze, gold.database, gold.interface)
    given: dict[str, BaseModel] = {
        "analyze": gold.analyze,
        "database": gold.database,
        "interface": gold.interface,
    }
    return ProjectOutcome(pipeline.project, pipeline.repeat, {phase.phase: phase}, track=track, given=given)
