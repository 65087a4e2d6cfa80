"""What a run cost on a priced endpoint: `--price-in` / `--price-out` (dollars per million prompt and generated
tokens), stored with the run's config, times the tokens of every call of the run.

Prompt tokens are counted in full, including the part a server served from its cache: that is what most
hosted endpoints bill (a cache discount would make the figure an upper bound). Replayed calls of a resumed
run count once, as they were paid once; a call cut off by an interruption was never stored and is not
counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PER_TOKENS = 1_000_000


def run_cost(config: Mapping[str, Any], profile: Mapping[str, Any]) -> float | None:
    """Dollars for the run's calls (`profile`: the profiler's aggregate over them), or None without prices."""
    price_in, price_out = config.get("price_in"), config.get("price_out")
    if price_in is None and price_out is None:
        return None
    prompt = int(profile.get("prompt_tokens") or 0)
    generated = int(profile.get("generated_tokens") or 0)
    return (prompt * float(price_in or 0.0) + generated * float(price_out or 0.0)) / PER_TOKENS


def format_cost(dollars: float | None) -> str:
    """$0.0042, $1.23, or "—" when the run had no prices."""
    if dollars is None:
        return "—"
    return f"${dollars:.4f}" if dollars < 1 else f"${dollars:,.2f}"


def cost_note(config: Mapping[str, Any], profile: Mapping[str, Any]) -> str:
    """One line: the cost and how it was computed ("" without prices)."""
    dollars = run_cost(config, profile)
    if dollars is None:
        return ""
    prompt = int(profile.get("prompt_tokens") or 0)
    generated = int(profile.get("generated_tokens") or 0)
    price_in, price_out = float(config.get("price_in") or 0.0), float(config.get("price_out") or 0.0)
    return (
        f"cost {format_cost(dollars)}: {prompt:,} prompt tokens at ${price_in:g}/M + "
        f"{generated:,} generated at ${price_out:g}/M"
    )
