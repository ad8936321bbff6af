"""Amounts as bank staff read them (GLOSSARY): ¥1,234,567 in English, 123.46 万元 in Chinese."""

from __future__ import annotations

import pytest

from wealthcrm.web.format import format_cny, format_count, format_share


@pytest.mark.parametrize(
    ("amount", "en", "zh"),
    [
        (1_234_567, "¥1,234,567", "123.46 万元"),
        (1_600_000.5, "¥1,600,001", "160.00 万元"),  # half-up, as on statements
        (0, "¥0", "0 元"),
        (9_999.4, "¥9,999", "9,999 元"),  # below 1 万: whole yuan
        (10_000, "¥10,000", "1.00 万元"),
        (12_345, "¥12,345", "1.23 万元"),
        (12_355, "¥12,355", "1.24 万元"),  # 1.2355 rounds half-up (float 1.2355 would round down)
        (2_500_000_000, "¥2,500,000,000", "250,000.00 万元"),
        (-1_234_567, "-¥1,234,567", "-123.46 万元"),
        (0.5, "¥1", "1 元"),
    ],
)
def test_format_cny(amount: float, en: str, zh: str) -> None:
    assert format_cny(amount, "en") == en
    assert format_cny(amount, "zh_CN") == zh


def test_format_count_and_share() -> None:
    assert [format_count(n, "en") for n in (0, 7, 12_345, 1_000_000)] == ["0", "7", "12,345", "1,000,000"]
    assert format_count(12_345, "zh_CN") == "12,345"
    assert [format_share(x, "en") for x in (0, 1 / 3, 0.0005, 1)] == ["0.0%", "33.3%", "0.1%", "100.0%"]
