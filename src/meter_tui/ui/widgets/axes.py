"""Chart axes shared by the screens: y ticks through zero, so that the zero line is always labelled."""

from __future__ import annotations

import math
from typing import Any


def zero_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Y ticks from `low` to `high` that always include 0, so that the zero line is labelled."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:  # nothing to show (a period without data): an axis all the same, never a zero range
        return [0.0, 1.0]
    step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= step)
    first = math.floor(low / step)
    return [round(n * step, 6) for n in range(first, math.ceil(high / step) + 1)]


def y_axis(plt: Any, values: list[float], colour: tuple[int, int, int]) -> None:
    """A y axis with a labelled zero line: ticks through 0 and the line drawn."""
    ticks = zero_ticks(min(values, default=0.0), max(values, default=0.0))
    plt.yticks(ticks, [f"{tick:g}" for tick in ticks])
    plt.ylim(ticks[0], ticks[-1])
    if ticks[0] < 0:  # below the bars' own base: the zero line drawn across
        plt.hline(0.0, colour)
