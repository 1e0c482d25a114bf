"""What PostgreSQL stores when a SQLite value is written into a column of a given type.

The schema check counts, for a column whose target type is narrower than its source's, every
source value a move would change (:mod:`harness.checks.narrowing`). On a PostgreSQL source
the server casts each value itself; SQLite has no PostgreSQL types, so this module models
PostgreSQL's input for the types that round, truncate or refuse: integers (range, whole
numbers only), numeric(p, s) (half away from zero at ``s``, overflow past ``p``), real
(nearest float4; overflow and underflow refused), double precision, varchar(n) and char(n)
(too long refused, unless only spaces are cut), timestamp(p) and time(p) (fractions rounded
as PostgreSQL rounds them, a timestamp without time zone dropping the offset) and date (the
time of day dropped). Any other type stores the value as it is: the canon already marks a
value that is not one of the type (``!``).

``tests/test_rows_lossy.py`` holds the model to PostgreSQL itself, value by value.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from harness.db.typemap import TypeInfo, fraction_digits
from harness.rows import canon


class Unstorable(ValueError):
    """PostgreSQL would refuse the value (out of range, too long, not of the type)."""


Store = Callable[[Any], Any]


def model(target: TypeInfo) -> Store:
    """A function giving what a column of type ``target`` holds after ``value`` is written
    into it, or raising :class:`Unstorable`."""
    family = target.family
    if family == "integer":
        bound = 2 ** ((target.bits or 64) - 1)
        return lambda v: _integer(v, bound)
    if family == "numeric":
        return lambda v: _numeric(v, target.precision, target.scale)
    if family == "float":
        return _real if target.bits == 24 else _double
    if family == "text" and target.length is not None:
        length = target.length
        return lambda v: _text(v, length)
    if family in ("timestamp", "timestamptz"):
        digits, aware = fraction_digits(target), family == "timestamptz"
        return lambda v: _timestamp(v, digits, aware=aware)
    if family == "date":
        return _date
    if family == "time":
        digits = fraction_digits(target)
        return lambda v: _time(v, digits)
    return lambda v: v


def would_change(
    source: TypeInfo, target: TypeInfo, options: canon.CanonOptions
) -> Callable[[Any], bool]:
    """Whether a non-NULL SQLite value of a ``source`` column comes out of a ``target``
    column as another value, as row parity compares them (:func:`canon.domain`)."""
    compared = canon.python(canon.domain(source, target), options)
    store = model(target)

    def changes(value: Any) -> bool:
        text = compared(value)
        if text.startswith("!"):
            return True
        try:
            return compared(store(value)) != text
        except (Unstorable, ValueError, TypeError, ArithmeticError, OverflowError):
            return True

    return changes


# -- numbers ---------------------------------------------------------------------------------


def _number(value: Any) -> Decimal:
    if isinstance(value, bool | bytes | bytearray | memoryview):
        raise Unstorable(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unstorable(value)
        return Decimal(repr(value))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise Unstorable(value) from None
    if not number.is_finite():
        raise Unstorable(value)
    return number


def _integer(value: Any, bound: int) -> int:
    number = _number(value)
    if number != number.to_integral_value():  # '2.5' is not an integer's input
        raise Unstorable(value)
    if not -bound <= number < bound:
        raise Unstorable(value)
    return int(number)


def _numeric(value: Any, precision: int | None, scale: int | None) -> Decimal:
    number = _number(value)
    if scale is not None:
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if precision is not None and abs(number) >= Decimal(10) ** (precision - (scale or 0)):
        raise Unstorable(value)
    return number


def _double(value: Any) -> float:
    if isinstance(value, str):
        return float(value.strip())
    if isinstance(value, bool | bytes | bytearray | memoryview):
        raise Unstorable(value)
    return float(value)


def _real(value: Any) -> float:
    number = _double(value)
    if not math.isfinite(number):
        return number
    try:
        single: float = struct.unpack("f", struct.pack("f", number))[0]
    except OverflowError:
        raise Unstorable(value) from None
    if math.isinf(single) or (single == 0 and number != 0):  # overflow, underflow
        raise Unstorable(value)
    return single


# -- text ------------------------------------------------------------------------------------


def _text(value: Any, length: int) -> str:
    text = value if isinstance(value, str) else canon.python(TypeInfo("text", "text"))(value)
    if len(text) > length:
        if text[length:].strip(" "):
            raise Unstorable(value)
        return text[:length]  # PostgreSQL cuts excess spaces without a word
    return text


# -- dates and times -------------------------------------------------------------------------

_EPOCH = datetime(2000, 1, 1)  # PostgreSQL counts microseconds from here


def _micro(fraction: str) -> int:
    """A fraction of a second in microseconds, as PostgreSQL reads it (a double, rint)."""
    return round(float("0." + fraction) * 1_000_000) if fraction else 0


def _rounded(micros: int, digits: int) -> int:
    """PostgreSQL's typmod rounding: half away from zero, from its epoch."""
    unit = int(10 ** (6 - digits))
    sign = -1 if micros < 0 else 1
    return sign * ((abs(micros) + unit // 2) // unit * unit)


def _timestamp(value: Any, digits: int, *, aware: bool) -> datetime:
    match = canon.DATETIME_TEXT.match(str(value)) if not isinstance(value, datetime) else None
    if match is None:
        raise Unstorable(value)
    year, month, day = (int(part) for part in match["date"].split("-"))
    moment = datetime(year, month, day, int(match["h"] or 0), int(match["m"] or 0))
    moment += timedelta(seconds=int(match["s"] or 0), microseconds=_micro(match["frac"] or ""))
    zone = match["zone"]
    if aware and zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = zone[1:3], zone[1:].replace(":", "")[2:] or "0"
        moment -= sign * timedelta(hours=int(hours), minutes=int(minutes))
    # a timestamp without time zone drops the offset; with one, the instant is kept in UTC
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    stored = _EPOCH + timedelta(microseconds=_rounded(micros, digits))
    return stored.replace(tzinfo=UTC) if aware else stored


def _date(value: Any) -> datetime:
    moment = _timestamp(value, 6, aware=False)
    return datetime(moment.year, moment.month, moment.day)


def _time(value: Any, digits: int) -> time:
    match = canon.TIME_TEXT.match(str(value))
    if match is None:
        raise Unstorable(value)
    micros = (int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)) * 1_000_000
    micros = _rounded(micros + _micro(match[4] or ""), digits)
    if micros >= 86_400_000_000:  # 24:00:00 is a time; past it PostgreSQL refuses
        if micros > 86_400_000_000:
            raise Unstorable(value)
        return time(23, 59, 59, 999_999)  # stands in for 24:00, which canon spells itself
    return (datetime(2000, 1, 1) + timedelta(microseconds=micros)).time()
