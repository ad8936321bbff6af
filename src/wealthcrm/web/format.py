"""Numbers as bank staff read them: CNY as ¥1,234,567 in English and in 万 (123.46 万元) in Chinese.

Rounding is half-up, as on bank statements, not Python's (and Babel's) default half-even.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

WAN = Decimal(10_000)  # 万: Chinese amounts are read in ten-thousands


def _round(value: float | Decimal, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=16)
def _symbols(locale: str) -> dict[str, str] | None:
    """The locale's group, decimal and minus signs where they differ from ``,``, ``.`` and ``-``."""
    found = {
        ",": get_group_symbol(locale),
        ".": get_decimal_symbol(locale),
        "-": get_minus_sign_symbol(locale),
    }
    return None if all(k == v for k, v in found.items()) else found


def format_decimal(value: float | Decimal, *, format: str, locale: str) -> str:
    """Babel's ``format_decimal`` for the three patterns used here (``#,##0``, ``#,##0.0``,
    ``#,##0.00``): groups of three, the pattern's decimals, the locale's signs. A page formats hundreds
    of amounts; Babel parses the pattern and looks up the locale each time, ten times slower."""
    places = len(format.partition(".")[2])
    text = f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    symbols = _symbols(locale)
    return text if symbols is None else "".join(symbols.get(ch, ch) for ch in text)


def format_cny(amount: float, locale: str) -> str:
    """An amount of CNY: ``¥1,234,567`` (en); ``123.46 万元`` from 1 万 up, else ``9,999 元`` (zh_CN)."""
    value = Decimal(str(amount))
    if locale == "zh_CN":
        if abs(value) >= WAN:
            return f"{format_decimal(_round(value / WAN, 2), format='#,##0.00', locale=locale)} 万元"
        return f"{format_decimal(_round(value, 0), format='#,##0', locale=locale)} 元"
    rounded = _round(value, 0)
    sign = "-" if rounded < 0 else ""
    return f"{sign}¥{format_decimal(abs(rounded), format='#,##0', locale=locale)}"


def format_count(number: int, locale: str) -> str:
    """A whole number with the locale's thousands separator: 12,345."""
    return format_decimal(number, format="#,##0", locale=locale)


def format_share(share: float, locale: str) -> str:
    """A share as a percentage with one decimal: 0.1234 → 12.3%."""
    return f"{format_decimal(_round(share * 100, 1), format='#,##0.0', locale=locale)}%"
