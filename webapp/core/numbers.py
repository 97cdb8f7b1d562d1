"""Whole numbers read from text: query strings, form fields, headers, settings and CSV cells.

`str.isdigit` is true of "²" and "١", and `int` refuses "²" and any text of more than 4,300
digits with a ValueError: read through `isdigit` then `int`, such input was a 500 where a 400 was
meant. `whole_number` reads ASCII digits only, and at most `digits` of them."""
from __future__ import annotations

ID_DIGITS = 18   # every id and count fits 64 bits


def digits_only(text) -> bool:
    """Whether `text` is a non-empty string of ASCII digits 0-9 (pure)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def whole_number(text, digits: int = ID_DIGITS) -> int | None:
    """The number `text` writes in 1 to `digits` ASCII digits (blanks around it allowed), else
    None: other characters, a sign, a fraction, or more digits (pure)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    return int(text) if len(text) <= digits and digits_only(text) else None


def digits_as_int(value, digits: int = 100):
    """`value` as its number when it is text of 1 to `digits` ASCII digits (blanks around it
    allowed), else `value` as given, for the caller's own check to refuse with its message (pure)."""
    number = whole_number(value, digits)
    return value if number is None else number
