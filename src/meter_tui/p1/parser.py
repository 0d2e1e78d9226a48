"""bytes of one framed telegram -> `Telegram`.

A line is read once: its (code, values) and what it sets in the Telegram are remembered by its text, so that a line
the meter sends again unchanged (most of them, from one second to the next) costs one dictionary lookup. A new line
is matched by one regular expression and routed by one lookup in the quantities table, instead of dsmr_parser's
regular expression tried per line per object: this is what imports months of one-second telegrams in seconds.
A new line's numbers are checked when it is read (p1.plausible: the table's unit, a value a household connection
can measure), so the check costs nothing for a line sent again; a line that fails it is never remembered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.errors import CrcError, FramingError, ImplausibleError, TelegramError, TelegramValueError
from meter_tui.p1.plausible import (
    MAX_POWER_KW,
    MAX_READING,
    ImplausibleValue,
    checked,
    units_for,
    wrong_unit,
)
from meter_tui.p1.quantities import PARSED, Quantity, Rule
from meter_tui.p1.telegram import DataObject, MbusDevice, MbusReading, MonthPeak, Peak, Phase, Tariff, Telegram
from meter_tui.p1.values import decode_octets, parse_int, parse_quantity, parse_timestamp

_CRC_FIELD = re.compile(rb"[0-9A-Fa-f]{0,4}")
_PEAK_REFERENCE = "1-0:1.6.0"
_TARIFFS = {1: Tariff.DAY, 2: Tariff.NIGHT}
_KW = units_for("kW")


class _Builder:
    """The mutable state of one parse; frozen into a Telegram at the end. Numbers of the phases are kept in
    `fields` under flat keys (`l1_voltage_v`) until the end, which saves a dictionary per phase per telegram."""

    __slots__ = ("extra", "fields", "mbus", "relays")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.mbus: dict[int, dict[str, Any]] = {}
        self.relays: list[tuple[int, int]] = []
        self.extra: list[tuple[str, int | float | str]] = []

    def device(self, channel: int) -> dict[str, Any]:
        device = self.mbus.get(channel)
        if device is None:
            device = self.mbus[channel] = {}
        return device

    def build(self, header: str, crc: int | None, objects: tuple[DataObject, ...], raw: bytes) -> Telegram:
        fields = self.fields
        pop = fields.pop
        phases = tuple(
            [
                Phase(number, pop(a, None), pop(b, None), pop(c, None), pop(d, None))
                for number, (a, b, c, d) in _PHASE_KEYS
                if a in fields or b in fields or c in fields or d in fields
            ]
        )
        mbus = self.mbus
        devices = tuple([MbusDevice(channel, **mbus[channel]) for channel in sorted(mbus)]) if mbus else ()
        return Telegram(header, crc, objects, raw, phases=phases, relays=tuple(self.relays), mbus=devices,
                        extra=tuple(self.extra), **fields)  # fmt: skip


def _integer(text: str) -> int:
    return parse_int(text[1:-1])


def _text(text: str) -> str:
    return text[1:-1]


def _octets(text: str) -> str | None:
    return decode_octets(text[1:-1]) or None


def _timestamp(text: str) -> datetime | None:
    return parse_timestamp(text[1:-1])


def _tariff(text: str) -> Tariff | None:
    return _TARIFFS.get(parse_int(text[1:-1]))


def _kw(quantity: str) -> float:
    """A peak's `(kW)`: a power the connection can draw, in kW (or W)."""
    number, _, unit = quantity.partition("*")
    divisor = _KW.get(unit)
    if divisor is None:
        raise wrong_unit(unit, "kW")
    return checked(float(number) / divisor, MAX_POWER_KW, "kW")


# The readers below are cached as well, by text: a stream that alternates between meters (or a parse of many
# captures) still meets the same month peaks and M-Bus readings again and again.
@lru_cache(maxsize=64)
def _peak(sent: str) -> Peak:
    stamp, quantity = sent[1:-1].split(")(")
    time = parse_timestamp(stamp)
    return Peak(time, _kw(quantity) if time is not None else None)


@lru_cache(maxsize=64)
def _month_peaks(sent: str) -> tuple[MonthPeak, ...] | None:
    """0-0:98.1.0(N)(1-0:1.6.0)(1-0:1.6.0)(T)(P)(V)...: take the entries that are there, whatever N says.

    Other countries use 98.1.0 for other data (billing values in Hungary): without the 1-0:1.6.0 references it is
    not a peak history (None) and stays only a generic object.
    """
    values = sent[1:-1].split(")(")
    if not values[0].isdigit() or (len(values) > 1 and values[1] != _PEAK_REFERENCE):
        return None
    rest = values[3:]
    entries = []
    for index in range(0, len(rest) - 2, 3):
        closed = parse_timestamp(rest[index])
        if closed is None:
            continue
        peak_time = parse_timestamp(rest[index + 1])
        kw = _kw(rest[index + 2]) if peak_time is not None else None
        month = date(closed.year - 1, 12, 1) if closed.month == 1 else date(closed.year, closed.month - 1, 1)
        entries.append(MonthPeak(month, peak_time, kw))
    return tuple(entries)


def _number(text: str) -> float:
    return parse_quantity(text[1:-1])[0]


@lru_cache(maxsize=64)
def _reading(sent: str) -> MbusReading:
    stamp, quantity = sent[1:-1].split(")(")
    value, unit = parse_quantity(quantity)
    return MbusReading(parse_timestamp(stamp), checked(value, MAX_READING, unit), unit)


def _old_reading(sent: str) -> MbusReading:
    """DSMR 2/3: (time)(status)(period)(count)(reference)(unit)(value), the value often on the next line."""
    values = sent[1:-1].split(")(")
    return MbusReading(parse_timestamp(values[0]), checked(float(values[6]), MAX_READING, values[5]), values[5])


# How each parse rule of the quantities table reads an object's values (given with their parentheses).
_READERS: dict[Rule, Callable[[str], Any]] = {
    Rule.NUMBER: _number,
    Rule.INTEGER: _integer,
    Rule.TEXT: _text,
    Rule.OCTETS: _octets,
    Rule.TIMESTAMP: _timestamp,
    Rule.TARIFF: _tariff,
    Rule.PEAK: _peak,
    Rule.PEAK_HISTORY: _month_peaks,
    Rule.RELAY: _integer,
    Rule.DEVICE_TYPE: _integer,
    Rule.DEVICE_SERIAL: _octets,
    Rule.DEVICE_EAN: _octets,
    Rule.VALVE: _integer,
    Rule.READING: _reading,
    Rule.OLD_READING: _old_reading,
}
# Where a value goes: a field of the Telegram, `extra`, a relay, or a field of an M-Bus device.
_FIELD, _EXTRA, _RELAY, _DEVICE = 0, 1, 2, 3
_DEVICE_FIELDS = {
    Rule.DEVICE_TYPE: "device_type",
    Rule.DEVICE_SERIAL: "serial",
    Rule.DEVICE_EAN: "ean",
    Rule.VALVE: "valve",
    Rule.READING: "reading",
    Rule.OLD_READING: "reading",
}
Placed = tuple[int, Any, Any] | None  # (where, key, value): what one object sets; None: nothing


# A number of the quantities table: where it goes (a field, or `extra` for a row without one), the Telegram's field
# (a phase's flat key, or the row's key), the units accepted with what the number is divided by (W -> kW), the
# largest plausible value and the table's unit.
_Numeric = tuple[int, str, dict[str, float], float, str]


def _routing() -> tuple[dict[str, _Numeric], dict[str, Quantity], dict[str, Quantity]]:
    """The parse loop's lookups, derived from the quantities table: numbers written inline (code -> the
    Telegram's field, or a phase's flat key: two thirds of every telegram), the other objects of the meter and
    those of M-Bus channels (by what follows `0-n:`)."""
    numeric: dict[str, _Numeric] = {}
    meter: dict[str, Quantity] = {}
    channel: dict[str, Quantity] = {}
    for code, row in PARSED.items():
        if row.rule in _DEVICE_FIELDS or row.rule is Rule.RELAY:
            channel[code.split(":", 1)[1]] = row
        elif row.rule is Rule.NUMBER:
            key = f"l{row.phase}_{row.field}" if row.phase else (row.field or row.key)
            most = row.most if row.most is not None else float("inf")
            numeric[code] = (_FIELD if row.field else _EXTRA, key, units_for(row.unit, row.other_units), most, row.unit)
        elif row.rule in _READERS:
            meter[code] = row
    return numeric, meter, channel


_NUMERIC, _METER, _CHANNEL = _routing()
# The flat keys of each phase's four values, in Phase's field order.
_PHASE_KEYS = tuple((n, tuple(f"l{n}_{field}" for field in Phase._fields[1:])) for n in (1, 2, 3))


def _number_of(numeric: _Numeric, sent: str) -> Placed:
    """`(value*unit)` of a number of the table, in the table's unit, checked: a unit that is not the quantity's, a
    value below zero, above what a household connection can measure, or not finite raises ImplausibleValue."""
    where, key, units, most, unit = numeric
    star = sent.find("*")
    divisor = units.get(sent[star + 1 : -1] if star >= 0 else "")
    if divisor is None:
        raise wrong_unit(sent[star + 1 : -1], unit)
    value = float(sent[1:star] if star >= 0 else sent[1:-1]) / divisor  # x / 1.0 is x, to the last bit
    if 0.0 <= value <= most:
        return where, key, value
    return where, key, checked(value, most, unit)


def _place(code: str, sent: str) -> Placed:
    """What an object sets in the telegram. Raises ValueError or IndexError on a bad value; an object this program
    does not read sets nothing (it is kept as a generic object all the same)."""
    numeric = _NUMERIC.get(code)
    if numeric is not None:
        return _number_of(numeric, sent)
    row = _METER.get(code)
    if row is not None:
        value = _READERS[row.rule](sent)  # type: ignore[index]
        if value is None and row.rule is Rule.PEAK_HISTORY:
            return None
        return (_FIELD, row.field, value) if row.field else (_EXTRA, row.key, value)
    if code[:2] == "0-" and code[3:4] == ":" and code[2] != "0" and (row := _CHANNEL.get(code[4:])) is not None:
        value = _READERS[row.rule](sent)  # type: ignore[index]
        channel = int(code[2])
        if row.rule is Rule.RELAY:
            return _RELAY, channel, value
        return _DEVICE, (channel, _DEVICE_FIELDS[row.rule]), value  # type: ignore[index]
    return None


# A meter repeats most lines unchanged from one second to the next (serial numbers, the tariff, the registers for
# several seconds, zero export at night, the month peaks, an M-Bus reading for five minutes): each line seen is
# remembered whole, with its (code, values) and what it set, and a line sent again as it was is neither matched
# nor read again: one dictionary lookup. At most `_LINES_KEPT` lines: the powers change every second, so the memory
# is started over now and then, which costs one telegram read in full.
_lines: dict[str, tuple[DataObject, Placed]] = {}
_LINES_KEPT = 2048
# A line is `code(v1)(v2)...`: the expression gives (code, '(v1)(v2)...'). German meters append the OBIS billing
# suffix `*255` to codes; the expression leaves it out of the code.
_LINE = re.compile(r"([^(*\r\n]+)(?:\*\d+)?(\(.*\))\r?")


def _read_line(line: str) -> tuple[DataObject, Placed] | None:
    """A line not seen lately: None when it is not `code(values)`. Raises ValueError or IndexError on a bad value."""
    match = _LINE.fullmatch(line)
    if match is None:
        return None
    code, sent = match.groups()
    numeric = _NUMERIC.get(code)
    place = _number_of(numeric, sent) if numeric is not None else _place(code, sent)
    if len(_lines) >= _LINES_KEPT:
        _lines.clear()
    seen = _lines[line] = ((code, sent), place)
    return seen


def _trailer_crc(data: bytes, end: int) -> int | None:
    """The CRC after '!': up to 4 hex digits (some meters drop leading zeros), then a line end or nothing."""
    digits = _CRC_FIELD.match(data, end).end()  # type: ignore[union-attr] - {0,4} always matches
    if digits < len(data) and data[digits] not in (0x0D, 0x0A):
        raise FramingError(f"malformed CRC field after '!': {data[end : end + 6]!r}", end)
    return int(data[end:digits], 16) if digits > end else None


def parse_telegram(data: bytes, *, verify_crc: bool = True) -> Telegram:
    """Check and parse one telegram, from its '/' to its CRC (a trailing line end is allowed).

    Raises `TelegramError` (`CrcError`, `FramingError`, `TelegramValueError`) and nothing else. With
    `verify_crc=False` a telegram whose CRC is wrong is still read: for explaining a rejected telegram, never as data.
    """
    try:
        return _parse(data, verify_crc)
    except TelegramError:
        raise
    except Exception as error:  # the contract: nothing but TelegramError escapes, whatever the bytes
        raise FramingError(f"unreadable telegram: {error}") from error


def _parse(data: bytes, verify_crc: bool) -> Telegram:
    if not data.startswith(b"/"):
        raise FramingError("telegram does not start with '/'")
    bang = data.find(b"\n!")
    if bang < 0:
        raise FramingError("no end line '!': the telegram is incomplete", len(data))
    end = bang + 2
    crc = _trailer_crc(data, end)
    if crc is not None and verify_crc:
        computed = crc16_arc(data[:end])
        if computed != crc:
            raise CrcError(computed, crc, end)
    # latin-1 maps each byte to one character, so offsets in `text` are byte offsets in the frame.
    text = data[: bang + 1].decode("latin-1")
    header_end = text.find("\n")
    header = text[1:header_end].rstrip("\r")
    # Objects that wrap between two values (the spec's 98.1.0, DSMR 2/3 gas) are joined first.
    body = text.replace(")\r\n(", ")(").replace(")\n(", ")(") if ")\n(" in text or ")\r\n(" in text else text
    builder = _Builder()
    fields, mbus, seen_lines, objects = builder.fields, builder.mbus, _lines.get, []
    line = ""
    try:
        for line in body[header_end + 1 :].split("\n"):
            seen = seen_lines(line)
            if seen is None:
                if line in ("", "\r"):
                    continue
                seen = _read_line(line)
                if seen is None:
                    raise _stray_line(text, header_end + 1)
            objects.append(seen[0])
            place = seen[1]
            if place is None:
                # Anything else is kept as a generic object only: a meter's odd code (the spec examples have
                # '1-0:99:97.0') is no reason to lose a telegram whose CRC vouches for it.
                continue
            where, key, value = place
            if where == _FIELD:
                fields[key] = value
            elif where == _DEVICE:
                device = mbus.get(key[0])
                if device is None:
                    device = mbus[key[0]] = {}
                device[key[1]] = value
            elif where == _EXTRA:
                builder.extra.append((key, value))
            else:
                builder.relays.append((key, value))
    except ImplausibleValue as error:
        code = line.partition("(")[0].partition("*")[0]
        raise _line_error(text, f"{code}(", str(error), code, error.reason) from error
    except (ValueError, IndexError) as error:
        code = line.partition("(")[0].partition("*")[0]
        raise _line_error(text, f"{code}(", f"bad value ({error})", code) from error
    if crc is None and ("timestamp" in builder.fields or "version" in builder.fields):
        # DSMR 4+ and e-MUCS meters always send a CRC: without one, this is a telegram cut off right after '!'.
        raise FramingError("no CRC after '!', though this meter's telegrams carry one", end)
    return builder.build(header, crc, tuple(objects), data)


def _stray_line(text: str, start: int) -> TelegramValueError:
    """The first line that is not `code(values)`, found only once we know there is one."""
    for line in text[start:].split("\n"):
        stripped = line.rstrip("\r")
        if stripped and not _LINE.fullmatch(stripped) and not stripped.startswith("("):
            return _line_error(text, stripped, "not an OBIS object")
    return _line_error(text, text[start:].split("\n", 1)[0], "not an OBIS object")


def _line_error(text: str, line_text: str, problem: str, code: str = "", implausible: str = "") -> TelegramValueError:
    """An error naming the line (1-based, as in an editor) and its byte offset in the frame; an ImplausibleError
    (with its reason) for a value or unit no household connection has."""
    offset = text.find(line_text)
    line = text.count("\n", 0, offset) + 1 if offset >= 0 else 0
    if implausible:
        return ImplausibleError(problem, max(offset, 0), line, code, implausible)
    return TelegramValueError(problem if code else f"{problem}: {line_text[:60]!r}", max(offset, 0), line, code)
