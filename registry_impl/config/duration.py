"""Go ``time.Duration`` strings (``168h``, ``1h30m``, ``500ms``) to and from ``datetime.timedelta``."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

__all__ = ["format_duration", "parse_duration", "timedelta_from_ns", "timedelta_to_ns"]

_NS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # U+00B5 MICRO SIGN, what Go prints
    "\u03bcs": 1_000,  # U+03BC GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NS = 2**63 - 1
_DIGITS = "0123456789"


def timedelta_from_ns(ns: int) -> timedelta:
    """Nanoseconds to a timedelta, truncating toward zero below the microsecond."""
    micros = abs(ns) // 1_000
    return timedelta(microseconds=-micros if ns < 0 else micros)


def timedelta_to_ns(value: timedelta) -> int:
    """A timedelta as whole nanoseconds."""
    return ((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds) * 1_000


def parse_duration(text: str) -> timedelta:
    """Parse a duration as Go's ``time.ParseDuration`` does; raise ``ValueError`` when it would fail.

    A duration is an optional sign and a sequence of decimal numbers, each with an optional fraction
    and a unit (``ns``, ``us``/``µs``, ``ms``, ``s``, ``m``, ``h``), e.g. ``300ms``, ``-1.5h``,
    ``2h45m``. ``0`` alone needs no unit. Precision below a microsecond is truncated.
    """
    rest = text
    negative = rest[:1] == "-"
    if rest[:1] in ("-", "+"):
        rest = rest[1:]
    if rest == "0":
        return timedelta(0)
    if not rest:
        raise ValueError(f"invalid duration {text!r}")
    total = Fraction(0)
    while rest:
        whole, rest = _take(rest, _DIGITS)
        fraction = ""
        if rest[:1] == ".":
            fraction, rest = _take(rest[1:], _DIGITS)
        if not whole and not fraction:
            raise ValueError(f"invalid duration {text!r}")
        unit, rest = _take_unit(rest)
        if not unit:
            raise ValueError(f"missing unit in duration {text!r}")
        if unit not in _NS_PER_UNIT:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r}")
        number = Fraction(int(whole or "0")) + (
            Fraction(int(fraction), 10 ** len(fraction)) if fraction else 0
        )
        total += number * _NS_PER_UNIT[unit]
        if total > _MAX_NS:
            raise ValueError(f"invalid duration {text!r}")
    ns = int(total)  # truncates like Go's int64 conversion
    return timedelta_from_ns(-ns if negative else ns)


def format_duration(value: timedelta) -> str:
    """Format as Go's ``Duration.String`` does: ``1h30m0s``, ``1.5s``, ``500ms``, ``0s``."""
    ns = timedelta_to_ns(value)
    if ns == 0:
        return "0s"
    sign, u = ("-" if ns < 0 else ""), abs(ns)
    if u < 1_000_000_000:
        for unit, scale in (("ms", 1_000_000), ("\u00b5s", 1_000), ("ns", 1)):
            if u >= scale:
                return f"{sign}{_decimal(u, scale)}{unit}"
    hours, rem = divmod(u, 3_600_000_000_000)
    minutes, rem = divmod(rem, 60_000_000_000)
    seconds = f"{_decimal(rem, 1_000_000_000)}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"


def _decimal(value: int, scale: int) -> str:
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def _take(text: str, allowed: str) -> tuple[str, str]:
    i = 0
    while i < len(text) and text[i] in allowed:
        i += 1
    return text[:i], text[i:]


def _take_unit(text: str) -> tuple[str, str]:
    i = 0
    while i < len(text) and text[i] != "." and text[i] not in _DIGITS:
        i += 1
    return text[:i], text[i:]
