"""The one Metal working-set rule, as `fit` states it to users and as the machine facts record it."""

from __future__ import annotations

import pytest

from runner.errors import ConfigError
from runner.fit.budget import GIB, metal_budget_rule, metal_default_budget, resolve_budget


@pytest.mark.parametrize(
    ("ram_gb", "share"),
    [(8, 2 / 3), (16, 2 / 3), (32, 2 / 3), (36, 2 / 3), (48, 3 / 4), (64, 3 / 4), (96, 3 / 4)],
)
def test_default_share_of_ram(ram_gb: int, share: float) -> None:
    assert metal_default_budget(ram_gb * GIB) == pytest.approx(ram_gb * GIB * share, abs=1)
    assert metal_budget_rule(ram_gb * GIB).startswith(
        f"Metal working set ≈ {'2/3' if share < 0.7 else '3/4'}"
    )


def test_a_wired_limit_replaces_the_default_and_zero_keeps_it() -> None:
    assert metal_default_budget(64 * GIB, 57344) == 56 * GIB
    assert metal_default_budget(64 * GIB, 0) == metal_default_budget(64 * GIB) == 48 * GIB
    assert metal_budget_rule(64 * GIB, 57344) == "Metal limit iogpu.wired_limit_mb=57344"


def test_fit_states_the_rule_without_pointing_at_files_users_lack() -> None:
    budget = resolve_budget(memory="16GB", chip_name="M4 Pro")
    assert budget.budget_bytes == metal_default_budget(16 * GIB)
    assert budget.rule == metal_budget_rule(16 * GIB)
    assert "FACTS" not in budget.rule and "§" not in budget.rule
    with pytest.raises(ConfigError) as err:
        resolve_budget(chip_name="M4")
    assert "FACTS" not in err.value.one_line() and "--memory" in err.value.one_line()
