"""Client addresses against lists of addresses and networks (a kiosk bound to its address)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def address_in(address: str, allowed: Iterable[str]) -> bool:
    """Whether `address` (an IP, maybe IPv4-mapped IPv6) is one of `allowed` (IPs or CIDR networks)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
