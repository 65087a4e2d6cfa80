"""Mean ± 95% confidence interval with the t-distribution (no scipy: exact table up to 30 degrees of
freedom, the Cornish-Fisher expansion beyond, which is within 0.001 of the exact quantile there)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from runner.run.record import Interval

_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959964


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (two-sided 95%)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_ci(values: Sequence[float]) -> Interval:
    """Mean and 95% half-width (sample stddev, t with n-1 df); half_width None when n < 2."""
    n = len(values)
    if n == 0:
        return Interval(mean=0.0, half_width=None, n=0)
    mean = math.fsum(values) / n
    if n < 2:
        return Interval(mean=mean, half_width=None, n=1)
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return Interval(mean=mean, half_width=t_quantile_975(n - 1) * math.sqrt(variance / n), n=n)


def format_interval(interval: Interval, digits: int = 1) -> str:
    if interval.half_width is None:
        return f"{interval.mean:.{digits}f}"
    return f"{interval.mean:.{digits}f} ± {interval.half_width:.{digits}f}"
