"""`--backend oracle`: a backend that answers every pipeline call with the matching part of the project's
gold answer, optionally degraded and then repaired from the feedback (see degrade.py).

By default it keeps the backend contract through the scripted backend of the registry (its tokenizer and
synthetic, deterministic stats). With `through` (a registry name, e.g. "llama-cpp") it loads that real backend
on the run's model instead and forces each answer through it: a grammar that admits only the gold text
(a JSON `const`), which jump-forward appends in batches — real prompt, cache and timing figures for a perfect
model. Options (`--backend-options '{"degrade_rate": 0.3}'`): `degrade_rate` (0..1, share of first answers
spoilt; scripted mode only), `seed` (default: the run's seed), `through`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from backends.base import (
    Backend,
    BackendError,
    Capabilities,
    Constraint,
    Generation,
    GenerationRequest,
    LoadConfig,
    TokenCallback,
)
from backends.registry import create_backend
from runner.gold import GoldAnswer, gold_projects, load_gold
from runner.oracle.answers import answer, tool_of
from runner.oracle.degrade import Defect, choose_defect, render, stable_seed
from runner.projects import builtin_projects

RETRY_MARK = "\n\nYour previous call"
SCRIPTED_MAX_TOKENS = 1 << 20


class OracleBackend:
    name = "oracle"

    def __init__(self) -> None:
        self._inner: Backend = create_backend("fake")
        # Scripted mode accepts grammar mode but enforces nothing: every generation says constrained=False.
        self.capabilities = Capabilities(
            grammar_engines=("llguidance", "gbnf"), prefix_cache=True, parallel_calls=True
        )
        self.through: str | None = None
        self.degrade_rate = 0.0
        self.seed = 0
        self._gold: dict[str, GoldAnswer] = {}
        self._defects: dict[str, list[Defect]] = {}
        self.stats = {"answers": 0, "degraded": 0, "repaired": 0}

    def load(self, config: LoadConfig) -> None:
        options = dict(config.options)
        try:
            self.degrade_rate = float(options.pop("degrade_rate", 0.0))
            self.seed = int(options.pop("seed", config.seed))
            self.through = str(options.pop("through")) if "through" in options else None
        except (TypeError, ValueError) as err:
            raise BackendError(f"oracle backend: bad option: {err}") from None
        if not 0.0 <= self.degrade_rate <= 1.0:
            raise BackendError(f"oracle backend: degrade_rate must be within 0..1, got {self.degrade_rate}")
        if (
            options and self.through is None
        ):  # with `through`, the rest is that backend's (prefix_cache_mb...)
            raise BackendError(
                f"oracle backend: unknown options {sorted(options)}; known: degrade_rate, seed, through"
            )
        if self.through is not None and self.degrade_rate > 0:
            raise BackendError(
                "oracle backend: degrade_rate works only without `through` (a grammar forces gold)"
            )
        titles = {p.title: p.id for p in builtin_projects().values()}
        self._titles = {title: pid for title, pid in titles.items() if pid in gold_projects()}
        if self.through is None:
            self._inner.load(LoadConfig(model="oracle", seed=config.seed, options={"responder": self._reply}))
            return
        self._inner = create_backend(self.through)
        self._inner.load(replace(config, options=options))
        self.capabilities = self._inner.capabilities

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return self._inner.tokenize(text, add_special=add_special)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self._inner.detokenize(tokens)

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        if self.through is not None:
            request = self._forced(request)
        else:
            # The scripted tokenizer splits JSON finer than a real vocabulary does, so the tool's budget
            # (sized in real model tokens) would cut a gold answer that a real model fits.
            request = replace(request, max_tokens=SCRIPTED_MAX_TOKENS)
        return self._inner.generate(request, on_token)

    def memory_report(self) -> Mapping[str, int]:
        return self._inner.memory_report() if self.through is not None else {}

    def close(self) -> None:
        self._inner.close()

    # ------------------------------------------------------------------------------------------------
    def _gold_value(self, request: GenerationRequest) -> tuple[str, str | None, Any]:
        prompt = "\n".join(m.content for m in request.messages) if request.messages else request.prompt or ""
        gold = self._project(prompt)
        tool = tool_of(prompt, request.constraint.name if request.constraint else None)
        self.stats["answers"] += 1
        return prompt, tool, answer(gold, tool, prompt) if gold is not None else {}

    def _forced(self, request: GenerationRequest) -> GenerationRequest:
        """The request with a constraint that admits only the gold answer (in free mode too)."""
        _, _, value = self._gold_value(request)
        engine = request.constraint.engine if request.constraint else "llguidance"
        constraint = Constraint(json_schema={"const": value}, name="gold", engine=engine, max_whitespace=0)
        return replace(request, constraint=constraint)

    def _reply(self, request: GenerationRequest) -> str:
        prompt, tool, value = self._gold_value(request)
        original, _, feedback = prompt.partition(RETRY_MARK)
        key = str(stable_seed(self.seed, original))
        if feedback:
            # after a resume the first answer was replayed, not asked: the same draw gives its defects again
            before = self._defects[key] if key in self._defects else self._draw(key, value, tool)
            kept = [d for d in before if not d.named_by(feedback)]
            self.stats["repaired"] += len(before) - len(kept)
            self._defects[key] = kept
        else:
            self._defects[key] = self._draw(key, value, tool)
            self.stats["degraded"] += int(bool(self._defects[key]))
        return render(value, self._defects.get(key, []))

    def _draw(self, key: str, value: Any, tool: str | None) -> list[Defect]:
        """The defects of the first answer to a request (seeded by it, so the same every time)."""
        if self.degrade_rate <= 0:
            return []
        rng = random.Random(int(key))
        return [choose_defect(value, rng, tool)] if rng.random() < self.degrade_rate else []

    def _project(self, prompt: str) -> GoldAnswer | None:
        for title, project_id in self._titles.items():
            if f"Project: {title}\n" in prompt:
                if project_id not in self._gold:
                    self._gold[project_id] = load_gold(project_id)
                return self._gold[project_id]
        return None
