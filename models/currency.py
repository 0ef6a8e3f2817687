"""Placeholder until the currency module lands."""


def format_money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 100)
    return f"{currency} {sign}{major:,}.{minor:02d}"
