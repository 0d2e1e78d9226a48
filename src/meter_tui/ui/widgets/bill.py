"""The bill: a month split as the supplier's invoice splits it, under rates.json and each contract beside it, and
the last 12 months under each, with the difference to rates.json. Text only; the figures come from the session."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from meter_tui.energy.costs import money
from meter_tui.services.views import BillView
from meter_tui.ui.palette import colours


def bill_text(view: BillView, dark: bool) -> RenderableType:
    c = colours(dark)
    lines = Table(box=None, padding=(0, 1), pad_edge=False)
    lines.add_column(f"{view.month:%b %Y}", no_wrap=True)
    for name in view.names:
        lines.add_column(name, justify="right", no_wrap=True)
    rows = (
        ("Electricity", "electricity", "import"),
        ("Gas", "gas", "gas"),
        ("Water", "water", "water"),
        ("Network: capacity", "network", "cost"),
        ("Fixed fees", "fixed", "cost"),
        ("Excluding VAT", "excluding_vat", None),
        ("VAT", "vat", "muted"),
        ("Total", "total", "cost"),
    )
    for label, field, meaning in rows:
        style = (c[meaning] if meaning else "") + (" bold" if label in ("Total", "Excluding VAT") else "")
        lines.add_row(label, *(Text(f"{money(getattr(bill, field))}{_mark(bill.unpriced_quarters, field)}",
                                    style.strip()) for bill in view.invoices))  # fmt: skip
    months = Table(box=None, padding=(0, 1), pad_edge=False)
    months.add_column("Month", no_wrap=True)
    for name in view.names:
        months.add_column(name, justify="right", no_wrap=True)
    for name in view.names[1:]:
        months.add_column(f"Δ {name}", justify="right", no_wrap=True)
    sums = [0.0] * len(view.names)
    missing = [0] * len(view.names)
    for month, totals, unpriced in view.months:
        sums = [a + b for a, b in zip(sums, totals, strict=True)]
        missing = [a + b for a, b in zip(missing, unpriced, strict=True)]
        months.add_row(f"{month:%b %Y}", *_money_row(totals, unpriced, c))
    if view.months:
        months.add_row(Text("12 months", "bold"), *_money_row(sums, missing, c, bold=True))
    notes = [Text(f"Capacity price: {view.capacity_words}", c["muted"])]
    if view.invoices and (bill := view.invoices[0]).missing_quarters:
        notes.append(Text(f"Incomplete: {bill.known_quarters:,} of {bill.expected_quarters:,} quarters have data "
                          f"({bill.missing_quarters:,} missing): the energy is short, fixed fees and capacity are "
                          "billed for the whole month", c["alarm"]))  # fmt: skip
    if len(view.names) == 1:
        notes.append(Text("Put other offers as rates files in contracts/ beside rates.json to compare them here, "
                          "or run meter-tui compare A.json B.json.", c["muted"]))  # fmt: skip
    if any(any(u) for _, _, u in view.months):
        notes.append(Text("* quarters with energy but no day-ahead price (meter-tui import prices.csv) are left "
                          "out, never priced as free", c["alarm"]))  # fmt: skip
    notes += [Text(f"Refused: {why}", c["alarm"]) for why in view.refused]
    return Group(lines, Text(""), months, Text(""), *notes)


def _money_row(totals: list[float] | tuple[float, ...], unpriced: list[int] | tuple[int, ...], c: dict[str, str],
               *, bold: bool = False) -> list[Text]:  # fmt: skip
    """Each contract's total, then each other contract's difference to the first."""
    style = f"{c['cost']} bold" if bold else c["cost"]
    cells = [Text(f"{money(t)}{'*' if u else ''}", style) for t, u in zip(totals, unpriced, strict=True)]
    pairs = zip(totals[1:], unpriced[1:], strict=True)
    return cells + [_difference(t - totals[0], c, unpriced[0] + u, bold=bold) for t, u in pairs]


def _mark(unpriced: int, field: str) -> str:
    """A star on what misses the energy of quarters without a day-ahead price."""
    return "*" if unpriced and field in ("electricity", "excluding_vat", "vat", "total") else ""


def _difference(amount: float, c: dict[str, str], unpriced: int, *, bold: bool = False) -> Text:
    """Cheaper in the export colour, dearer in the alarm colour; no difference at all where a side misses the
    energy of unpriced quarters (it would look like a saving)."""
    if unpriced:
        return Text("incomplete", c["muted"])
    style = c["export"] if amount < 0 else c["alarm"] if amount > 0 else ""
    return Text(money(amount, sign=True), f"{style} bold".strip() if bold else style)
