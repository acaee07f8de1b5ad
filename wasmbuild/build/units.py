"""Sizes and ages for people, as docker and wasme print them."""

from __future__ import annotations

import time


def human_size(size: float) -> str:
    """SI units (1 kB = 1000 B), three significant digits: 11.5 kB, 2.96 GB."""
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            return f"{size:.3g} {unit}"
    raise AssertionError("unreachable")


def human_age(timestamp: float, now: float | None = None) -> str:
    """`5 seconds ago`, `3 minutes ago`, `2 days ago` (wasme list's UPDATED column)."""
    seconds = max(0, int((time.time() if now is None else now) - timestamp))
    for unit, length in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
                         ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = seconds // length
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now" if seconds < 2 else f"{seconds} seconds ago"
