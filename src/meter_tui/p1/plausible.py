"""What a household connection can physically measure: the bounds every value of a telegram is checked against.

A telegram with a valid CRC is only proof that the bytes arrived as the meter sent them, not that the meter (or a
bridge, or someone on the wire) sent something possible: NaN, Infinity, 1e30 kW or `*MWh` in a register would end
in a traceback, a NOT NULL failure or 300-digit prices further on. The bounds are generous (a large three-phase
connection with room to spare), so that no real meter is refused, and every one is derived from a few physical
limits. Pure code, no I/O: the parser checks each line once, when it first reads it.
"""

from __future__ import annotations

MAX_VOLTAGE_V = 300.0  # phase to neutral: 230 V +10 % is 253 V
MAX_CURRENT_A = 400.0  # per phase: Belgian household connections are 40 to 63 A; large ones a few hundred
MAX_PHASE_KW = MAX_VOLTAGE_V * MAX_CURRENT_A / 1000.0  # 120 kW
MAX_POWER_KW = 3 * MAX_PHASE_KW  # 360 kW: three phases at their limit
MAX_REGISTER_KWH = 1e9  # nine digits before the decimal point: more than any meter's register holds
MAX_READING = 1e9  # an M-Bus meter's register (m³, GJ), the same way
MAX_SETTING = 1000.0  # a power limit or fuse threshold; meters say 'none' with 99.999 kW or 999.99 A
SCALED = {"W": "kW", "Wh": "kWh"}  # units some foreign meters use, converted by the parser


class ImplausibleValue(ValueError):
    """A value a household connection cannot measure, or a unit that is not the quantity's."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def units_for(unit: str, others: tuple[str, ...] = ()) -> dict[str, float]:
    """The units accepted for a row of the quantities table, each with what the number is divided by.

    The table's unit in any case (some meters write `kwh`), no unit at all, W and Wh for kW and kWh (divided by
    1000), and the spellings real meters use for the same setting (`others`, e.g. kVA or A for a power limit).
    """
    accepted = {"": 1.0, unit: 1.0, unit.lower(): 1.0}
    for small, kilo in SCALED.items():
        if kilo == unit:
            accepted[small] = 1000.0
    for other in others:
        accepted[other] = 1.0
    return accepted


def checked(value: float, most: float, unit: str) -> float:
    """`value` when 0 <= value <= most; else ImplausibleValue. NaN fails both comparisons and is refused too."""
    if 0.0 <= value <= most:
        return value
    raise ImplausibleValue(f"impossible value {value:g} {unit}".rstrip() + f" (allowed 0 to {most:g})", "impossible")


def wrong_unit(sent: str, expected: str) -> ImplausibleValue:
    return ImplausibleValue(f"wrong unit {sent!r}, expected {expected!r}", "wrong unit")


def allowed_wh(seconds: float) -> float:
    """The most a register can rise in `seconds`: the connection at its limit, one more second for a register
    and a stamp not taken at the same instant, and one Wh of rounding."""
    return MAX_POWER_KW * (seconds + 1) / 3.6 + 1


def likely_wh(kw: float, seconds: float) -> float:
    """The most a register is expected to rise in `seconds` (a minute at most) when the telegrams at both ends
    report `kw`: twice that power plus 3 kW switched on in between (a kettle), a second more for the stamps, 5 Wh
    of rounding. A larger rise is held back until the next telegram confirms it, never refused for that alone."""
    return (2 * kw + 3) * (seconds + 1) / 3.6 + 5
