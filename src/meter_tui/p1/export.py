"""A telegram as a JSON-ready dict: the shape `meter-tui parse` prints, for scripts and for people debugging a capture.

Keys are stable and named after what they hold, with units in the name; a value the telegram lacks is None. The
flat keys are the quantities table's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from meter_tui.p1.quantities import QUANTITIES, phase_rows
from meter_tui.p1.telegram import Telegram


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _flat(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def telegram_to_json(telegram: Telegram) -> dict[str, Any]:
    """Every value of the quantities table this kind of telegram can carry (None when this one lacks it), then the
    structured ones: the 13-month peaks, the phases, the relays and the M-Bus devices."""
    out: dict[str, Any] = {"crc": telegram.crc_status, "header": telegram.header}
    for row in QUANTITIES:
        if row.code and row.in_json and not row.phase and row.key not in out:
            out[row.key] = _flat(row.value(telegram))
    out["peak_history"] = [
        {"month": entry.month.strftime("%Y-%m"), "time": _time(entry.time), "kw": entry.kw}
        for entry in telegram.peak_history or ()
    ]
    out["phases"] = [
        {"phase": phase.phase, **{row.field: getattr(phase, row.field) for row in phase_rows()}}
        for phase in telegram.phases
    ]
    out["relays"] = [{"relay": number, "state": state} for number, state in telegram.relays]
    out["mbus"] = [
        {
            "channel": device.channel,
            "kind": device.kind.value,
            "device_type": device.device_type,
            "serial": device.serial,
            "value": device.reading.value if device.reading else None,
            "unit": device.reading.unit if device.reading else None,
            "time": _time(device.reading.time) if device.reading else None,
        }
        for device in telegram.mbus
    ]
    return out
