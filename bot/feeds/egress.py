"""Egress policy: feed URLs reach the public internet only, never the bot's own machine or network.

A URL is refused when it carries credentials, or when ANY address its host stands for is not global:
loopback, private, link-local, CGNAT, multicast, reserved, unspecified, a cloud metadata address, in
any spelling (2852039166, 0x7f.1, [::ffff:127.0.0.1], 6to4/NAT64/Teredo forms by their embedded IPv4).
Host names are vetted where aiohttp resolves them (`GuardedResolver`), so the connection goes to the
address that was vetted and a DNS answer that changes between the check and the connect cannot slip
through. The operator can allow their LAN (NEWSBOT_ALLOW_PRIVATE_NETWORKS=1: private, loopback and
link-local addresses, never a cloud metadata or multicast one) or listed networks
(NEWSBOT_ALLOW_PRIVATE_NETWORKS=127.0.0.1/32,10.0.0.0/8).
"""
from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.core.errors import FeedError
from bot.core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Public by the registry's letter, yet the cloud's instance-metadata or host endpoints.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16", "192.0.0.192", "fd00:ec2::254",
))
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")  # what inet_aton may read as an IPv4 address: 0x7f.1, 2852039166


class Blocked(OSError):
    """Raised by GuardedResolver (an OSError, so aiohttp wraps it as a connection error); carries the FeedError."""

    def __init__(self, error: FeedError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which non-public networks feeds may reach anyway: `allow` lists networks, `private` allows every
    private, loopback and link-local address (but no cloud metadata or multicast one). None by default."""

    allow: tuple[IPNetwork, ...] = ()
    private: bool = False

    @classmethod
    def allowing(cls, *cidrs: str) -> EgressPolicy:
        return cls(tuple(ipaddress.ip_network(c, strict=False) for c in cidrs))

    @classmethod
    def of(cls, settings: Settings) -> EgressPolicy:
        """The policy NEWSBOT_ALLOW_PRIVATE_NETWORKS asks for."""
        return cls(settings.private_networks, settings.allow_private_networks)

    def refusal(self, address: IPAddress) -> FeedError | None:
        """None when feeds may connect to `address`, else FeedError("blocked_address")."""
        embedded = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
        if any(a in net for net in self.allow for a in (address, embedded) if a is not None and a.version == net.version):
            return None
        if self.private and not any(a in METADATA_ADDRESSES or a.is_multicast for a in (address, embedded) if a):
            return None
        if embedded is not None and address not in _IPV4_COMPATIBLE:  # judged by the IPv4 address it reaches
            why = _why_not_public(embedded)
            shown = f"{embedded} (in {address})"
        else:
            why, shown = _why_not_public(address), str(address)
        return FeedError("blocked_address", f"{shown} is {why}") if why else None

STRICT = EgressPolicy()


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries: IPv4-mapped, 6to4, NAT64, Teredo client, IPv4-compatible."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64) or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _why_not_public(a: IPAddress) -> str | None:
    checks = (
        (a.is_unspecified, "an unspecified address"), (a.is_loopback, "a loopback address"),
        (a in METADATA_ADDRESSES, "a cloud metadata address"), (a.is_link_local, "a link-local address"),
        (a.is_multicast, "a multicast address"), (a.is_private, "a private address"),
        (a.is_reserved, "a reserved address"),
        (isinstance(a, ipaddress.IPv6Address) and a.is_site_local, "a site-local address"),
        (not a.is_global, "not a public address"),  # CGNAT 100.64.0.0/10, documentation, benchmarking, …
    )
    return next((why for hit, why in checks if hit), None)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host spells out directly, in any form a resolver accepts; None for a name."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host) and not host.isalpha():
        try:  # inet_aton reads the legacy forms: 127.1, 0x7f.1, 017700000001, 2130706433
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_url(url: str | URL, policy: EgressPolicy = STRICT) -> URL:
    """The URL if nothing short of resolving its host refuses it; raises FeedError otherwise.

    Refused: a scheme other than http(s), no host, user name or password in it, a literal address that
    `policy` does not allow.
    """
    try:
        u = url if isinstance(url, URL) else URL(url)
    except (ValueError, TypeError) as exc:
        raise FeedError("bad_url", str(exc)) from exc
    if u.scheme not in ("http", "https"):
        raise FeedError("bad_scheme", f"{u.scheme or 'no'} scheme in {str(u)[:200]}")
    if not u.host or not u.is_absolute():
        raise FeedError("bad_url", f"no host in {str(u)[:200]!r}")
    if u.raw_user is not None or u.raw_password is not None or "@" in (u.raw_authority or ""):
        raise FeedError("credentials", u.host)
    address = literal_address(u.host)
    if address is not None and (refused := policy.refusal(address)) is not None:
        raise refused
    return u


def vet_addresses(host: str, addresses: Iterable[str], policy: EgressPolicy) -> None:
    """Raise FeedError("blocked_address") if any resolved address of `host` is refused by `policy`."""
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise FeedError("blocked_address", f"{host} resolved to {text!r}") from None
        refused = policy.refusal(address)
        if refused is not None:
            raise FeedError("blocked_address", f"{host} → {refused.detail}")


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that answers only with vetted addresses: every address of the name, or nothing."""

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> Any:
        answers = await self.inner.resolve(host, port, family)
        try:
            vet_addresses(host, [a["host"] for a in answers], self.policy)
        except FeedError as exc:
            raise Blocked(exc) from None
        return answers

    async def close(self) -> None:
        await self.inner.close()


async def vet_url(url: str, policy: EgressPolicy, resolver: AbstractResolver | None = None,
                  timeout: float = 5.0) -> None:
    """`check_url`, then resolve the host and vet every address. Raises FeedError("blocked_address", …).

    A name that does not resolve (now) passes: fetching it fails anyway, and the connection is vetted again.
    """
    u = check_url(url, policy)
    assert u.host is not None
    if literal_address(u.host) is not None:
        return
    guard = GuardedResolver(policy, resolver)
    try:
        async with asyncio.timeout(timeout):
            await guard.resolve(u.host, u.port or 0, socket.AF_UNSPEC)
    except Blocked as exc:
        raise exc.error from None
    except (OSError, TimeoutError):
        return
    finally:
        if resolver is None:
            await guard.close()


class FeedSession:
    """An aiohttp session whose connections reach only addresses `policy` allows (use `async with`)."""

    def __init__(self, policy: EgressPolicy = STRICT, *, timeout: float = 20.0,
                 resolver: AbstractResolver | None = None) -> None:
        self.policy, self.timeout, self.resolver = policy, timeout, resolver
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FeedSession:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.policy, self.resolver), family=socket.AF_UNSPEC)
        # trust_env=False: an HTTP(S)_PROXY variable must not route feeds around the vetting.
        self.http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout),
                                          trust_env=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.http is not None:
            await self.http.close()
            self.http = None


def blocked_cause(exc: BaseException) -> FeedError | None:
    """The FeedError behind an aiohttp connection error raised by GuardedResolver, if that is what it is."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, Blocked):
            return e.error
        stack += [e.__cause__, e.__context__, getattr(e, "os_error", None)]
    return None
