"""An oracle whose first realize answer names a table that does not exist: the realize phase's feedback
loop must place the error and the retry (the gold answer again) must pass."""

from __future__ import annotations

import json

from backends.base import GenerationRequest
from runner.oracle.backend import RETRY_MARK, OracleBackend

GHOST_TABLE = "ghost_rows"


class BrokenRealizeOracle(OracleBackend):
    def __init__(self) -> None:
        super().__init__()
        self.broken: list[str] = []
        """The first step of each answer that was broken, as JSON."""

    def _reply(self, request: GenerationRequest) -> str:
        text = super()._reply(request)
        prompt = request.messages[-1].content if request.messages else ""
        if self.broken or "Tool `write_realize_operation`" not in prompt or RETRY_MARK in prompt:
            return text
        value = json.loads(text)
        step = next(s for s in value["steps"] if "table" in s)
        step["table"] = GHOST_TABLE
        self.broken.append(json.dumps(step))
        return json.dumps(value)
