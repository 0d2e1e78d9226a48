"""The prices: rates.json as the user wrote it, refused when broken (the last good prices stay in force)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meter_tui.energy.rates import EXAMPLE_RATES, RateBook, RatesError, parse_rates, save_rates, user_rates


@dataclass(frozen=True, slots=True)
class PricesView:
    """The prices in force, where they come from, and why the file was refused ('' when it was not)."""

    path: Path
    book: RateBook
    error: str = ""


class Prices:
    """Owned by the store thread: every cost is computed there, with the book in force at that moment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.view = PricesView(path, user_rates(path))
        except RatesError as error:
            # A broken rates.json is refused; the app runs on the example prices and says so.
            self.view = PricesView(path, parse_rates(EXAMPLE_RATES), str(error))

    @property
    def book(self) -> RateBook:
        return self.view.book

    def save(self, document: dict[str, Any]) -> PricesView:
        """Check and save atomically; on success every cost uses the new prices at once. Raises RatesError."""
        self.view = PricesView(self.path, save_rates(self.path, document))
        return self.view
