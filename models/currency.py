"""Currencies: how many minor units make a major one, and money written out for people.

Amounts are integer minor units everywhere (models/money.py); this turns them into text
such as `USD 1,234.50` with integer arithmetic only, so no amount is ever off by a float.
The format is locale-neutral on purpose: the same invoice reads the same everywhere.
"""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not a hundredth. Everything else has two digits.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
            "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point for `currency` (ISO 4217): JPY 0, USD 2, KWD 3."""
    return _EXPONENTS.get(currency.strip().upper(), 2)


def format_money(amount: int, currency: str) -> str:
    """`amount` minor units as `USD 1,234.50`, `JPY -5` or `KWD 0.125`."""
    code = currency.strip().upper()
    exponent = minor_unit_exponent(code)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    text = f"{major:,}"
    if exponent:
        text += f".{minor:0{exponent}d}"
    return f"{code} {sign}{text}"
