"""The live state: the latest telegram and the last ten minutes of power, for the live screen and MQTT."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from meter_tui.energy.costs import energy_cost_per_hour
from meter_tui.energy.rates import RateBook
from meter_tui.p1.telegram import Tariff, Telegram

SPARK_SECONDS = 600


class LiveState:
    def __init__(self) -> None:
        self.latest: Telegram | None = None
        self._powers: deque[float] = deque(maxlen=SPARK_SECONDS)

    def seed(self, earlier: list[Telegram]) -> None:
        """Telegrams from before this run (the history's last minutes), oldest first, before those since."""
        older = [(t.power_import_kw or 0.0) - (t.power_export_kw or 0.0) for t in earlier]
        self._powers = deque([*older, *self._powers], maxlen=SPARK_SECONDS)

    def add(self, telegram: Telegram) -> None:
        self.latest = telegram
        self._powers.append((telegram.power_import_kw or 0.0) - (telegram.power_export_kw or 0.0))

    @property
    def now(self) -> datetime | None:
        """The meter's clock: every view is computed for the time of the latest telegram, never the wall clock."""
        return self.latest.timestamp if self.latest is not None else None

    def powers(self) -> tuple[float, ...]:
        """Import minus export power, one a telegram, oldest first: a copy, for a view that leaves this thread."""
        return tuple(self._powers)

    def cost_per_hour(self, book: RateBook, spot_eur_mwh: float | None = None) -> float | None:
        """EUR an hour at the power of the latest telegram and the tariff it says is on (for a dynamic contract,
        at the running quarter's day-ahead price; None without one)."""
        t = self.latest
        if t is None or t.timestamp is None:
            return None
        rates = book.on(t.timestamp.date())
        return energy_cost_per_hour(t.power_import_kw or 0.0, t.power_export_kw or 0.0, rates,
                                    t.tariff is Tariff.NIGHT, spot_eur_mwh)  # fmt: skip
