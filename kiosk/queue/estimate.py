"""Estimated waiting time from live data, shrunk towards a configured prior."""

from __future__ import annotations

PRIOR_WEIGHT = 3  # the prior counts as this many observed visits


def mean_service_seconds(prior_s: float, observed: tuple[int, float] | None) -> float:
    """Mean time a counter spends per ticket: recent visits blended with the prior."""
    if not observed:
        return prior_s
    count, total = observed
    return (prior_s * PRIOR_WEIGHT + total) / (PRIOR_WEIGHT + count)


def estimated_wait_seconds(ahead: int, servers: int, mean_s: float) -> int:
    """Waiting time for someone with `ahead` people before them and `servers` counters working."""
    if ahead <= 0:
        return 0
    return round(ahead * mean_s / max(servers, 1))
