"""Text as the databases will store it: no NUL, no lone surrogate.

PostgreSQL refuses a NUL in text (and `\\u0000` in JSON); both databases' drivers refuse a lone
surrogate (which a decoder's `surrogateescape` can leave). A partner's reply with a
quoted-printable `=00` once failed to store three times and was quarantined. Every string bound
to a statement, and every string inside a JSON value, passes through `storable` first, so what
is refused becomes U+FFFD (visible as such) instead of an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    return _REFUSED.sub(REPLACEMENT, text) if _REFUSED.search(text) else text


def clean(value: Any) -> Any:
    """The value with every string in it (keys too, at any depth) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean(v) for v in value)
    return value


def json_serializer(value: Any) -> str:
    """SQLAlchemy's JSON columns serialise with this (json.dumps, as by default)."""
    return json.dumps(clean(value))


def clean_parameters(parameters: Any) -> Any:
    """A statement's bound parameters (a dict, a sequence, or a list of them for executemany)."""
    if isinstance(parameters, dict):
        return {k: storable(v) if isinstance(v, str) else v for k, v in parameters.items()}
    many = isinstance(parameters, list) and parameters
    if many and isinstance(parameters[0], dict | list | tuple):
        return [clean_parameters(p) for p in parameters]
    if isinstance(parameters, list | tuple):
        return type(parameters)(storable(v) if isinstance(v, str) else v for v in parameters)
    return parameters
