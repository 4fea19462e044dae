"""The base64 rule for every base64 input (events.md §1).

First every ASCII whitespace character (space, TAB, CR, LF) is removed wherever it occurs, because
line-wrapping encoders insert line breaks; the rest must be strict standard base64 (RFC 4648
alphabet with ``+`` and ``/``, padded to a multiple of 4, padding only at the end).
"""

from __future__ import annotations

import binascii

_WHITESPACE = " \t\r\n"


def decode_base64(text: str) -> bytes:
    """Decode ``text`` by the base64 rule of events.md §1; ``ValueError`` when it does not comply.

    The error message never contains the input.
    """
    if not isinstance(text, str):
        raise ValueError("base64 input must be a string")  # noqa: TRY004 - callers handle ValueError
    compact = text
    # `in` and `replace` scan in C; `str.translate` looks every character up in its table (9 µs
    # against 0.4 µs for an issue commitment message of 11 KB, benchmarks/PROFILE.md).
    for character in _WHITESPACE:
        if character in compact:
            compact = compact.replace(character, "")
    if len(compact) % 4:
        raise ValueError("base64 length is not a multiple of 4")
    try:
        # strict_mode refuses characters outside the alphabet and missing, leading, inner or excess padding.
        return binascii.a2b_base64(compact, strict_mode=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise ValueError("invalid base64 character or padding") from None
