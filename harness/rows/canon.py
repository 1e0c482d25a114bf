"""The value canon: one canonical text per value, computed inside PostgreSQL or in Python.

Row-level parity hashes rows on both sides and compares the hashes, so a value must have
exactly the same bytes whichever database holds it, and two values may share a text only
when they are the same value (within what the plan declares, ``float_digits``). The canon is
therefore never the target's rounding of the source value: a column's form is picked by
:func:`domain`, a type both sides' values fit into without loss (mostly the target's own),
and a source value the target type cannot hold gets a text no target value has, so a lossy
migration shows up as changed rows. Each form exists twice:

- :func:`sql` — a PostgreSQL expression, evaluated by the server so only hashes cross the wire;
- :func:`python` — a function for values read from SQLite, whose type affinity hands us money
  as REAL or INTEGER, timestamps as ISO text with or without ``T`` and fractions, booleans as
  0/1.

A property test (``tests/test_rows_canon.py``) holds the two to the same bytes on a real
PostgreSQL for random values of every family.

Forms (NULL is never canonised: the row encoding keeps NULL apart from ``''``):

=========== ========================================================================
integer     decimal digits: ``-12``
numeric     at the target's declared scale when the value has no more places: ``12.30``;
            any other value exactly, without trailing zeros (``19.999`` never meets the
            ``20.00`` a numeric(10,2) made of it); unscaled numerics without trailing zeros.
            A double in a SQLite NUMERIC column is the shortest decimal that is that double
float       ``float_digits`` significant digits in C ``%.*e`` form: ``1.25000000000000e+04``;
            ``NaN``, ``Infinity``, ``-Infinity``. A ``real`` (float4) source compares at
            real's precision: values on both sides rounded to the nearest real first
text        exact; ``rtrim`` (opt-in per column) drops trailing spaces; CHAR(n) targets always
            compare without their blank padding, as PostgreSQL itself does
timestamp   ``YYYY-MM-DD HH:MM:SS.ffffff`` at microseconds; SQLite text with a zone offset
            is taken to UTC (PostgreSQL drops the offset of a ``timestamp without time
            zone``, so a loader that did not convert changed the time); numbers are Unix
            epoch seconds; a fraction past microseconds that is not zero is kept (no
            PostgreSQL timestamp holds it)
timestamptz the same, converted to UTC and suffixed ``Z``; SQLite text without an offset is
            taken as UTC
date        ``YYYY-MM-DD``; SQLite text with a time of day other than midnight is kept
            whole (a ``date`` column drops it)
time        ``HH:MM:SS.ffffff``, fractions as for timestamps
boolean     ``t`` / ``f``
bytes       lowercase hex
uuid        lowercase ``8-4-4-4-12``
json        jsonb's own text: keys ordered by length then bytes, ``", "`` and ``": "``
            separators, numbers as PostgreSQL numerics
=========== ========================================================================

A SQLite value that cannot be a value of the target type (``'abc'`` in an integer column,
``2.5`` in an integer one, a timestamp's text with nanoseconds) canonises to ``!`` followed
by its repr: it can never equal a PostgreSQL value, so the row shows up as changed instead
of crashing the check (or, worse, matching the value a loader rounded it to).

No form depends on a session setting a database or role could change: ``to_char`` with
explicit patterns for numbers and times (neither DateStyle, extra_float_digits nor lc_numeric
reach it), ``AT TIME ZONE 'UTC'`` for timestamptz, ``encode(…, 'hex')`` for bytes, jsonb's
text for JSON, and no backslash in a plain literal (standard_conforming_strings). What is
left to PostgreSQL's own output — casts between different types (TimeZone, DateStyle),
interval and other types, columns compared raw — is printed under settings every session
pins (:data:`harness.endpoints.resolve.PINNED`, all on Aurora DSQL's SET allowlist), and
:func:`raw_sql` spells out the raw types whose text depends on any other setting.
"""

from __future__ import annotations

import json
import math
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

from harness.db.typemap import TypeInfo

DEFAULT_FLOAT_DIGITS = 15
"""Significant digits compared for floats: a double holds 15 to 17, so 15 ignores the last
bits a float4 → float8 or driver round trip may change."""


@dataclass(frozen=True)
class CanonOptions:
    """Per-column choices a plan may make; the report shows every non-default one."""

    float_digits: int = DEFAULT_FLOAT_DIGITS
    rtrim: bool = False
    """Drop trailing spaces before comparing text (CHAR padding carried into a VARCHAR)."""


Canon = Callable[[Any], str]

_NUMBERS = frozenset({"integer", "numeric", "float"})
_NUMERIC = TypeInfo("numeric", "numeric")
_DOUBLE = TypeInfo("float", "double precision", bits=53)
_REAL = TypeInfo("float", "real", bits=24)
_TIMESTAMP = TypeInfo("timestamp", "timestamp")
_TIMESTAMPTZ = TypeInfo("timestamptz", "timestamptz")


def domain(source: TypeInfo, target: TypeInfo, *, sqlite_target: bool = False) -> TypeInfo:
    """The type whose canon a column's values are compared in: one that holds every value
    of ``source`` and of ``target`` (at the precision the plan declares for floats), so that
    a source value the target rounded, truncated or cut short compares as changed.

    Mostly the target's own type, whose forms already keep every value apart (a numeric's
    extra places, a text's length, a timestamp's fraction). Where the target's form would
    fold several source values into one, a wider one: a float on either side compares as
    floats (at ``real``'s precision when the source is ``real``: what it held is no more
    exact), a numeric source in an integer column as numerics, a date and a timestamp as
    timestamps.

    ``sqlite_target`` (the way back, PostgreSQL → SQLite): a SQLite column's declared type is
    an affinity, not a domain (any column holds any value, stored as the driver chose), so
    the roles turn round: the PostgreSQL source's type is the domain, with the same widenings,
    exactly as a SQLite source's column compares in its PostgreSQL target's type. A value the
    target stored differently (``12.5`` for ``12.50``, ``1`` for ``true``, ISO text for a
    ``timestamptz``) compares equal when it denotes the same value, and changed when not.
    """
    if sqlite_target:
        source, target = target, source
    sf, tf = source.family, target.family
    if sf in _NUMBERS and tf in _NUMBERS:
        if "float" in (sf, tf):
            return _REAL if (sf, source.bits) == ("float", 24) else _DOUBLE
        if tf == "integer" and sf != "integer":
            return _NUMERIC
        return target
    if {sf, tf} == {"date", "timestamp"}:
        return _TIMESTAMP
    if {sf, tf} == {"date", "timestamptz"}:
        return _TIMESTAMPTZ
    return target


def sql(column: str, target: TypeInfo, options: CanonOptions = CanonOptions()) -> str:
    """A PostgreSQL expression giving the canonical text of ``column`` (an SQL expression,
    typically a quoted identifier) for a column whose target type is ``target``."""
    c = f"({column})"
    family = target.family
    if family == "integer":
        return f"{c}::bigint::text" if target.bits != 64 else f"{c}::text"
    if family == "numeric":
        if target.scale is not None:
            scaled = f"round({c}::numeric, {target.scale})"
            return (
                f"CASE WHEN {c}::numeric = {scaled} THEN {scaled}::text"
                f" ELSE trim_scale({c}::numeric)::text END"
            )
        return f"trim_scale({c}::numeric)::text"
    if family == "float":
        digits = options.float_digits - 1
        x = f"{c}::real::float8" if target.bits == 24 else f"{c}::float8"
        return (
            f"CASE WHEN {x} = 'NaN' THEN 'NaN' "
            f"WHEN {x} = 'Infinity' THEN 'Infinity' "
            f"WHEN {x} = '-Infinity' THEN '-Infinity' "
            f"WHEN {x} = 0 THEN '{0.0:.{digits}e}' "  # -0 and 0 are one value
            f"ELSE ltrim(to_char({x}, '9.{'9' * digits}EEEE')) END"
        )
    if family == "text":
        text = f"{c}::text"
        return f"rtrim({text}, ' ')" if options.rtrim or target.fixed_length else text
    if family == "timestamp":
        return _moment_sql(f"{c}::timestamp", "YYYY-MM-DD HH24:MI:SS.US")
    if family == "timestamptz":
        utc = f"({c}::timestamptz AT TIME ZONE 'UTC')"
        return _moment_sql(utc, "YYYY-MM-DD HH24:MI:SS.US", infinite=f"{c}::timestamptz", zone="Z")
    if family == "date":
        return _moment_sql(f"{c}::date", "YYYY-MM-DD")
    if family == "time":
        return f"to_char({c}::time::interval, 'HH24:MI:SS.US')"
    if family == "boolean":
        return f"CASE WHEN {c}::boolean THEN 't' WHEN NOT {c}::boolean THEN 'f' END"
    if family == "bytes":
        return f"encode({c}::bytea, 'hex')"
    if family == "uuid":
        return f"{c}::uuid::text"
    if family == "json":
        return f"{c}::jsonb::text"
    return f"{c}::text"  # interval and others: PostgreSQL's own output on both sides


def _moment_sql(x: str, pattern: str, *, infinite: str | None = None, zone: str = "") -> str:
    """A date or timestamp in ``pattern``; to_char gives NULL for ``infinity`` (which would
    meet a NULL) and drops the era (44 BC would meet 44 AD), so both are spelled out."""
    return (
        f"CASE WHEN isfinite({infinite or x}) THEN to_char({x}, '{pattern}')"
        f" || CASE WHEN {x} < '0001-01-01' THEN ' BC' ELSE '' END || '{zone}'"
        f" ELSE ({infinite or x})::text END"
    )


def raw_sql(column: str, declared: str) -> str | None:
    """A PostgreSQL text expression for ``column`` compared *raw* (the same PostgreSQL type,
    ``declared`` as ``format_type`` spells it, on both sides), or None when the value can be
    hashed as it is.

    A raw value is hashed as PostgreSQL prints it, which depends on session settings. The
    ones Aurora DSQL lets a session ``SET`` (DateStyle, IntervalStyle, TimeZone,
    extra_float_digits) are pinned by every session the harness opens
    (:mod:`harness.endpoints.resolve`); the types whose text depends on any other setting are
    spelled out here, so that a database's or role's default cannot change them:

    - bytea (``bytea_output``): ``\\x`` and lowercase hex, the default output, always;
    - money (``lc_monetary`` picks the symbol, separators and where the point goes): the
      stored integer of minor units;
    - arrays of those: their binary form (``array_send``), in hex.
    """
    c = f"({column})"
    kind = " ".join(declared.lower().split())
    if kind == "bytea":
        return f"E'\\\\x' || encode({c}, 'hex')"  # E'': whatever standard_conforming_strings
    if kind == "money":
        return f"('x' || encode(cash_send({c}), 'hex'))::bit(64)::bigint::text"
    if kind.endswith("[]") and kind.rstrip("[]").strip() in ("bytea", "money"):
        return f"encode(array_send({c}), 'hex')"
    return None


def python(target: TypeInfo, options: CanonOptions = CanonOptions()) -> Canon:
    """A function giving the canonical text of a non-NULL value read from SQLite (or from
    psycopg, for the row diff's display) for a column whose target type is ``target``."""
    family = target.family
    if family == "integer":
        return _guarded(_integer)
    if family == "numeric":
        scale = target.scale
        return _guarded(lambda v: _numeric(v, scale))
    if family == "float":
        digits, single = options.float_digits, target.bits == 24
        return _guarded(lambda v: _float(v, digits, single=single))
    if family == "text":
        trim = options.rtrim or target.fixed_length
        return _guarded(lambda v: _text(v).rstrip(" ") if trim else _text(v))
    if family == "timestamp":
        return _guarded(_naive_timestamp)
    if family == "timestamptz":
        return _guarded(lambda v: _timestamp(v, aware=True))
    if family == "date":
        return _guarded(_date)
    if family == "time":
        return _guarded(_time)
    if family == "boolean":
        return _guarded(_boolean)
    if family == "bytes":
        return _guarded(_bytes)
    if family == "uuid":
        return _guarded(_uuid)
    if family == "json":
        return _guarded(_json)
    return _guarded(str)


class _NotAValue(ValueError):
    """The value cannot be a value of the target type."""


def _guarded(convert: Callable[[Any], str]) -> Canon:
    def canon(value: Any) -> str:
        try:
            return convert(value)
        except (ValueError, TypeError, ArithmeticError, OverflowError):
            return f"!{value!r}"

    return canon


# -- numbers ------------------------------------------------------------------------------


def _integer(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _NotAValue(value)
        return str(int(value))
    if isinstance(value, Decimal | str):
        number = Decimal(str(value).strip())
        if number != number.to_integral_value():
            raise _NotAValue(value)
        return str(int(number))
    raise _NotAValue(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotAValue(value)
        return Decimal(repr(value))  # the shortest text that is this double, as users typed it
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise _NotAValue(value)
    return number


# Decimal's default context keeps 28 digits: normalize() would silently round a wider
# numeric (PostgreSQL keeps up to 131,072 digits) and quantize() would refuse it.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _numeric(value: Any, scale: int | None) -> str:
    if type(value) is int and scale is not None:  # the common money-in-cents-free case
        return f"{value}.{'0' * scale}" if scale else str(value)
    number = _decimal(value)
    if scale is not None:
        fitted = number.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
        if fitted == number:  # no places beyond the scale: nothing was rounded away
            return _plain(fitted)
    return _plain(_trim_scale(number))


def _trim_scale(number: Decimal) -> Decimal:
    if number == 0:
        return Decimal(0)
    normal = number.normalize(_EXACT)
    return normal.quantize(Decimal(1), context=_EXACT) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


def _plain(number: Decimal) -> str:
    """A Decimal as PostgreSQL prints a numeric: no exponent, the scale it carries."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    whole = number if exponent <= 0 else number.quantize(Decimal(1), context=_EXACT)
    text = f"{whole:f}"
    return "0" + text[2:] if text.startswith("-0") and Decimal(text) == 0 else text


def _float(value: Any, digits: int, *, single: bool) -> str:
    number = float(value.strip()) if isinstance(value, str) else float(value)
    if number == 0:
        number = 0.0  # -0.0 and 0.0 compare equal, as in PostgreSQL
    if single and math.isfinite(number):  # compared at real's precision (see domain())
        number = struct.unpack("f", struct.pack("f", number))[0]
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return f"{number:.{digits - 1}e}"  # Python's %e is C's: PostgreSQL's to_char uses it


# -- text, bytes, uuid, boolean --------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")  # a BLOB in a TEXT column: equal only if it is the text
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _bytes(value: Any) -> str:
    if isinstance(value, str):
        return value.encode().hex()  # TEXT in a BLOB column: its UTF-8 bytes
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise _NotAValue(value)  # bytes(12) would be twelve zero bytes, not a value


def _uuid(value: Any) -> str:
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    return str(uuid.UUID(str(value).strip()))


_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off"}


def _boolean(value: Any) -> str:
    if isinstance(value, bool | int):
        if value in (0, 1):
            return "t" if value else "f"
        raise _NotAValue(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return "t"
    if text in _FALSE:
        return "f"
    raise _NotAValue(value)


# -- dates and times -------------------------------------------------------------------------

DATETIME_TEXT = re.compile(
    r"^\s*(?P<date>\d{4,}-\d{1,2}-\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)


_INFINITE = {"infinity": "infinity", "+infinity": "infinity", "-infinity": "-infinity"}
"""PostgreSQL's text for its infinite dates and timestamps, which SQLite may hold as text."""


def _timestamp(value: Any, *, aware: bool) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=value)
    elif str(value).strip().lower() in _INFINITE:
        return _INFINITE[str(value).strip().lower()]
    else:
        moment = _parse_datetime(str(value))
    if aware:
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        return _stamp(moment) + "Z"
    if moment.tzinfo is not None:  # the instant, in UTC: a dropped offset moves the time
        moment = moment.astimezone(UTC)
    return _stamp(moment.replace(tzinfo=None))


def _stamp(m: datetime) -> str:
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}"
    )


# The shapes SQLite applications store most, canonised without building a datetime. An
# impossible date (month 13) still cannot match: PostgreSQL never holds one.
_FAST_SECONDS = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")
_FAST_MICROS = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d{6}")


def _naive_timestamp(value: Any) -> str:
    if isinstance(value, str):
        if _FAST_SECONDS.fullmatch(value):
            return f"{value[:10]} {value[11:]}.000000"
        if _FAST_MICROS.fullmatch(value):
            return f"{value[:10]} {value[11:]}"
    return _timestamp(value, aware=False)


def _parse_datetime(text: str) -> datetime:
    match = DATETIME_TEXT.match(text)
    if match is None:
        raise _NotAValue(text)
    year, month, day = (int(part) for part in match["date"].split("-"))
    base = datetime(year, month, day)
    if match["h"] is not None:
        base = base.replace(
            hour=int(match["h"]), minute=int(match["m"]), second=int(match["s"] or 0)
        )
    frac = match["frac"] or ""
    moment = _round_micro(base, frac)
    zone = match["zone"]
    if zone:
        if zone.upper() == "Z":
            offset = timedelta(0)
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        moment = moment.replace(tzinfo=_zone(offset))
    return moment


def _zone(offset: timedelta) -> timezone:
    return timezone(offset)


def _round_micro(moment: datetime, frac: str) -> datetime:
    """``moment`` plus a fraction of a second that microseconds hold exactly; PostgreSQL
    would round away any other digits, so such a fraction is not a value of the type."""
    if frac[6:].strip("0"):
        raise _NotAValue(frac)
    return moment + timedelta(microseconds=int(frac[:6].ljust(6, "0"))) if frac else moment


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value.isoformat()
    elif str(value).strip().lower() in _INFINITE:
        return _INFINITE[str(value).strip().lower()]
    else:
        moment = _parse_datetime(str(value))
    if moment.timetz() != time(tzinfo=moment.tzinfo):  # a date column would drop the time
        raise _NotAValue(value)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


TIME_TEXT = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*$")


def _time(value: Any) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    match = TIME_TEXT.match(str(value))
    if match is None:
        raise _NotAValue(value)
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    base = datetime(2000, 1, 1) + timedelta(hours=hours, minutes=minutes, seconds=seconds)
    moment = _round_micro(base, match[4] or "")
    if moment.day != 1:  # 24:00:00 is a valid PostgreSQL time
        return "24:00:00.000000"
    return moment.strftime("%H:%M:%S.%f")


# -- json ------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    parsed = (
        json.loads(value, parse_float=Decimal, parse_int=Decimal)
        if isinstance(value, str | bytes)
        else value
    )
    return _jsonb_text(parsed)


def _jsonb_text(node: Any) -> str:
    """PostgreSQL's jsonb output: object keys shorter first, then by bytes; numerics plain."""
    if node is None:
        return "null"
    if node is True:
        return "true"
    if node is False:
        return "false"
    if isinstance(node, str):
        return _jsonb_string(node)
    if isinstance(node, Decimal | int | float):
        return _plain(Decimal(node) if not isinstance(node, float) else Decimal(repr(node)))
    if isinstance(node, list):
        return "[" + ", ".join(_jsonb_text(item) for item in node) + "]"
    if isinstance(node, dict):
        keys = sorted(node, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{_jsonb_string(k)}: {_jsonb_text(node[k])}" for k in keys) + "}"
    raise _NotAValue(node)


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _jsonb_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
