"""Request parameters, parsed once: numbers within bounds, client times, booleans, choices, ids.

Every route of the native API and every Subsonic method reads its numeric,
time, boolean, choice and id parameters through these functions instead of
calling ``int()`` or ``float()`` itself. Each takes the raw value (query or
form text, or a JSON value) and the parameter's name, and returns a value the
domain code can use as it is (finite, in range, of the right type) or raises
:class:`BadParameter`, which names the parameter and says what it takes.
Nothing has been written when a parser refuses: routes parse everything
before they act.

:class:`BadParameter` is an :class:`~sonantica.node.errors.InvalidInput`, so
the native API answers it ``400 invalid_input`` and Subsonic error 0 (the
spec's "generic" error: code 10 means a *missing* parameter, and a value that
is present but wrong is not that).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable

from ..errors import InvalidInput

# a client's time (a scrobble's or a play event's) must fall between these: 2000-01-01 and a little ahead
# of the node's clock (clients' clocks drift). Anything else is a unit mix-up (µs, s) or garbage.
EARLIEST_MS = 946_684_800_000
CLOCK_SKEW_S = 300
MAX_TEXT_NUMBER = 40  # digits and signs: no parameter needs more, and int() of huge texts costs CPU
MAX_ID = 200
MAX_POSITION_MS = 7 * 86_400_000  # a position inside a track (a week: longer than any recording)
TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})


class BadParameter(InvalidInput):
    """A parameter is present but its value is not acceptable (wrong type, out of range, unknown choice)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name} {message}")
        self.name = name


def _absent(raw: object) -> bool:
    return raw is None or raw == ""


def integer(raw: str | int | None, name: str, lo: int, hi: int, default: int | None = None, *,
            clamp: bool = False) -> int | None:
    """An integer in [lo, hi]; ``clamp`` pulls an out-of-range value to the nearest bound instead of refusing.

    Text may be written as a decimal with a zero fraction (``"20.0"``: some
    Subsonic clients send floats); booleans and non-integral numbers are refused.
    """
    if _absent(raw):
        return default
    value = _to_int(raw, name)
    if clamp:
        return max(lo, min(hi, value))
    if not lo <= value <= hi:
        raise BadParameter(name, f"must be an integer between {lo} and {hi}")
    return value


def _to_int(raw: object, name: str) -> int:
    if isinstance(raw, bool):
        raise BadParameter(name, "must be an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if math.isfinite(raw) and raw.is_integer():
            return int(raw)
        raise BadParameter(name, "must be an integer")
    text = str(raw).strip()
    if len(text) > MAX_TEXT_NUMBER:
        raise BadParameter(name, "must be an integer (the value is far too long)")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise BadParameter(name, "must be an integer") from None
    if math.isfinite(value) and value.is_integer():
        return int(value)
    raise BadParameter(name, "must be an integer")


def number(raw: str | float | None, name: str, lo: float, hi: float, default: float | None = None) -> float | None:
    """A finite number in [lo, hi) (NaN and infinities are refused)."""
    if _absent(raw):
        return default
    if isinstance(raw, bool):
        raise BadParameter(name, "must be a number")
    if isinstance(raw, str) and len(raw) > MAX_TEXT_NUMBER:
        raise BadParameter(name, "must be a number (the value is far too long)")
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadParameter(name, "must be a number") from None
    if not (math.isfinite(value) and lo <= value < hi):
        raise BadParameter(name, f"must be a number from {lo:g} up to {hi:g}")
    return value


def timestamp_ms(raw: str | float | None, name: str, now: float | None = None) -> float | None:
    """A client's time in milliseconds since the epoch, as seconds; between 2000 and the node's clock (+5 min).

    A value outside that window is refused rather than stored: a client sending
    microseconds or seconds would otherwise book plays in the year 50,000 or 1970.
    """
    if _absent(raw):
        return None
    now = time.time() if now is None else now
    latest_ms = (now + CLOCK_SKEW_S) * 1000
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise BadParameter(name, "must be milliseconds since the epoch")
    if isinstance(raw, str) and len(raw) > MAX_TEXT_NUMBER:
        raise BadParameter(name, "must be milliseconds since the epoch (the value is far too long)")
    try:
        ms = float(raw)
    except ValueError:
        raise BadParameter(name, "must be milliseconds since the epoch") from None
    if not (math.isfinite(ms) and EARLIEST_MS <= ms <= latest_ms):
        raise BadParameter(name, "must be milliseconds since the epoch, between 2000-01-01 and now "
                                 "(is it in seconds or microseconds?)")
    return ms / 1000


def boolean(raw: str | bool | None, name: str, default: bool = False) -> bool:
    """true/false (also 1/0, yes/no, on/off, any case); anything else is refused, not read as false."""
    if _absent(raw):
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise BadParameter(name, "must be true or false")


def choice(raw: str | None, name: str, choices: Iterable[str], default: str | None = None) -> str | None:
    """One of ``choices`` (exact text)."""
    if _absent(raw):
        return default
    allowed = tuple(choices)
    if raw not in allowed:
        raise BadParameter(name, f"must be one of {', '.join(allowed)}")
    return raw  # type: ignore[return-value]


def ident(raw: str | None, name: str, prefixes: Iterable[str] = ()) -> str | None:
    """An id: printable text of at most 200 characters, with one of ``prefixes`` when given (``tr-``…)."""
    if _absent(raw):
        return None
    if not isinstance(raw, str) or len(raw) > MAX_ID or not raw.isprintable():
        raise BadParameter(name, f"must be an id of at most {MAX_ID} printable characters")
    kinds = tuple(prefixes)
    if kinds and not raw.startswith(kinds):
        raise BadParameter(name, f"must be an id starting with {' or '.join(kinds)}")
    return raw




# -- JSON bodies, checked against the schema the OpenAPI document publishes ---------------------------
_JSON_TYPES = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and v.is_integer())),
    "number": lambda v: not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v),
}


def check_json(value: object, schema: dict, name: str = "body") -> None:
    """Refuse ``value`` unless it fits ``schema`` (the JSON Schema subset the API document uses).

    The native API's request bodies are checked against the very schemas its
    OpenAPI document publishes (:data:`sonantica.node.api.openapi.BODY`), so
    the document and the node cannot disagree about what is a valid request.
    """
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else types
        if not any(_JSON_TYPES[t](value) for t in allowed):
            raise BadParameter(name, f"must be {' or '.join(allowed)}")
    if "enum" in schema and value not in schema["enum"]:
        raise BadParameter(name, f"must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < schema.get("minimum", -math.inf) or value > schema.get("maximum", math.inf):
            raise BadParameter(name, f"must be between {schema.get('minimum', '-∞')} and {schema.get('maximum', '∞')}")
    if isinstance(value, str):
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", math.inf):
            raise BadParameter(name, f"must have {schema.get('minLength', 0)}–{schema.get('maxLength', '∞')} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise BadParameter(name, f"must match {schema['pattern']}")
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", math.inf):
            raise BadParameter(name, f"may hold at most {schema['maxItems']} items")
        for i, item in enumerate(value):
            check_json(item, schema.get("items", {}), f"{name}[{i}]")
    if isinstance(value, dict):
        _check_object(value, schema, name)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            fits = sum(_fits(value, sub, name) for sub in schema[key])
            if fits == 0 or (key == "oneOf" and fits > 1):
                raise BadParameter(name, "does not have one of the accepted shapes" + _shapes(schema[key]))


def _check_object(value: dict, schema: dict, name: str) -> None:
    missing = [k for k in schema.get("required", []) if k not in value]
    if missing:
        raise BadParameter(name, f"misses field(s): {', '.join(missing)}")
    prefix = "" if name == "body" else f"{name}."
    for key, sub in schema.get("properties", {}).items():
        if key in value:
            check_json(value[key], sub, prefix + key)
            if sub.get("type") == "integer" and isinstance(value[key], float):
                value[key] = int(value[key])  # 4.0 is an integer in JSON; the domain code gets 4


def _fits(value: object, schema: dict, name: str) -> bool:
    try:
        check_json(value, schema, name)
    except BadParameter:
        return False
    return True


def _shapes(options: list[dict]) -> str:
    required = [", ".join(o.get("required", [])) for o in options if o.get("required")]
    return f" (exactly one of: {'; '.join(required)})" if required else ""


__all__ = ["BadParameter", "boolean", "check_json", "choice", "ident", "integer", "number", "timestamp_ms"]
