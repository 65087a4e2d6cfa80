"""The profiler: memory and throughput of every load and generation, and machine facts (used by `lapbench run`
and `lapbench bench`).

For the benchmark pipeline (see each module's docstring)::

    from runner.profiler import MemorySampler, profile_load, profiled_generate, aggregate, collect_machine_info

- `profile_load(backend, LoadConfig) -> LoadProfile` (load_seconds, peak_rss_bytes, backend_memory)
- `profiled_generate(backend, request, on_token) -> (Generation, CallProfile)`; `CallProfile.to_row()` gives
  the store's profiler columns (`CALL_COLUMNS`, the same names as runner.run.record.PROFILER_COLUMNS)
- `aggregate(profiles_or_rows, loads=()) -> dict` per phase or run
- `collect_machine_info(backend=..., n_threads=..., n_ctx=..., quant=...) -> MachineInfo` (pydantic;
  `.model_dump_json()` for runs.machine_json)

"""

from __future__ import annotations

from runner.profiler.machine import MachineInfo, collect_machine_info
from runner.profiler.profile import (
    CALL_COLUMNS,
    CallProfile,
    LoadProfile,
    aggregate,
    call_profile,
    percentile,
    profile_generation,
    profile_load,
    profiled_generate,
)
from runner.profiler.sampler import MemorySampler

__all__ = [
    "CALL_COLUMNS",
    "CallProfile",
    "LoadProfile",
    "MachineInfo",
    "MemorySampler",
    "aggregate",
    "call_profile",
    "collect_machine_info",
    "percentile",
    "profile_generation",
    "profile_load",
    "profiled_generate",
]
