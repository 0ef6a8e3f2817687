"""IP networks as settings name them (TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.5`, `10.0.0.0/8`, `::1` ... (ValueError names a bad one)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)
