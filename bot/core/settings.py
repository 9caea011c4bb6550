"""The bot's settings: one frozen object built from NEWSBOT_* / TELEGRAM_* values (pure; bot/app/config.py reads them).

Invalid values fail with `SettingsError` naming the variable; the token is never part of a repr.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DB = "./data/newsbot.sqlite3"
DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_ZONE = ZoneInfo(DEFAULT_TZ)  # for functions called without the settings (tests, the CLI's one-off tools)
DEFAULT_WEBHOOK_LISTEN = ("127.0.0.1", 8443)
# Telegram's secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -; at least 16 here, so it is a secret.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
DEFAULT_MAX_ITEMS_PER_FETCH = 100
DEFAULT_MAX_NEW_PER_FEED_DAY = 1000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
# Earlier names: refused with a pointer to the new one, so a stale .env does not silently lose its meaning.
_RENAMED = {"NEWSBOT_FEEDS_ALLOW": "NEWSBOT_ALLOW_PRIVATE_NETWORKS", "NEWSBOT_FOLDER_ROOTS": "NEWSBOT_FEED_ROOTS"}


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    admin_ids: frozenset[int] = frozenset()
    db_path: Path = Path(DEFAULT_DB)
    timezone: ZoneInfo = DEFAULT_ZONE
    log_level: str = "WARNING"
    poll_seconds: int = 300
    dispatch_seconds: int = 30
    feeds: tuple[str, ...] = ()
    # Operations (README "Operating newsbot"): articles older than this many days are purged, 0 keeps all;
    # a daily backup into backup_dir (keeping the newest backup_keep) when set; /healthz and /metrics on
    # a loopback host:port when metrics_listen is set (off by default).
    retention_days: int = 180
    backup_dir: Path | None = None
    backup_keep: int = 7
    metrics_listen: tuple[str, int] | None = None
    # NEWSBOT_ALLOW_PRIVATE_NETWORKS: "1"/"true" lets feeds reach private, loopback and link-local
    # addresses (a LAN feed); a CIDR list allows just those networks. Off by default: public addresses only.
    allow_private_networks: bool = False
    private_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Folders an admin may add from a chat or an OPML import (NEWSBOT_FEED_ROOTS): these and below; none by default.
    feed_roots: tuple[Path, ...] = ()
    # Volume caps per RSS/Atom feed: the newest N items of each fetch, and new articles per 24 hours.
    max_items_per_fetch: int = DEFAULT_MAX_ITEMS_PER_FETCH
    max_new_per_feed_day: int = DEFAULT_MAX_NEW_PER_FEED_DAY
    # Webhook mode (NEWSBOT_WEBHOOK_URL set): the public HTTPS URL Telegram posts updates to, the local
    # address:port the bot listens on behind the reverse proxy, and the secret every request must carry.
    webhook_url: str = ""
    webhook_listen: tuple[str, int] = DEFAULT_WEBHOOK_LISTEN
    webhook_secret: str = field(default="", repr=False)

    @property
    def has_token(self) -> bool:
        return bool(self.token)

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)

    @property
    def webhook_path(self) -> str:
        """The path the local server answers on: the public URL's path (the proxy forwards it as is)."""
        return urlsplit(self.webhook_url).path.strip("/")


def _zone(name: str, var: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"{var}: unknown time zone {name!r}") from exc


def _int(raw: str, var: str, lo: int, hi: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{var}: expected a whole number, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise SettingsError(f"{var}: must be between {lo} and {hi}, got {value}")
    return value


def _networks(raw: str, var: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for part in raw.replace(";", ",").split(","):
        if part.strip():
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise SettingsError(f"{var}: {part.strip()!r} is not an address or network (e.g. 10.0.0.0/8)") from exc
    return tuple(nets)


def _private_networks(raw: str, var: str) -> tuple[bool, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    """(allow every private network, allowed networks): a boolean, or a comma-separated CIDR list."""
    word = raw.strip().lower()
    if word in _TRUE:
        return True, ()
    if word in _FALSE:
        return False, ()
    try:
        return False, _networks(raw, var)
    except SettingsError as exc:
        raise SettingsError(f"{exc} — or 1 / true for every private network") from None


def _roots(raw: str) -> tuple[Path, ...]:
    return tuple(Path(p.strip()) for p in raw.split(":") if p.strip())


def _listen(raw: str, var: str) -> tuple[str, int] | None:
    """A loopback `host:port` ('127.0.0.1:9464', '[::1]:9464', 'localhost:9464'), or None when empty."""
    raw = raw.strip()
    if not raw:
        return None
    host, sep, port = raw.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise SettingsError(f"{var}: expected a loopback address:port such as 127.0.0.1:9464, got {raw!r}")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise SettingsError(f"{var}: only a loopback address (127.0.0.1, ::1, localhost) is allowed, got {host!r}")
    return host, int(port)


def _webhook(values: Mapping[str, str]) -> tuple[str, tuple[str, int], str]:
    """NEWSBOT_WEBHOOK_URL / _LISTEN / _SECRET: the secret is required when the URL is set."""
    url = values.get("NEWSBOT_WEBHOOK_URL", "").strip()
    raw_listen = values.get("NEWSBOT_WEBHOOK_LISTEN", "").strip()
    listen = DEFAULT_WEBHOOK_LISTEN
    if raw_listen:  # any address the operator chooses (a proxy on another host); loopback by default
        host, sep, port = raw_listen.rpartition(":")
        host = host.strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise SettingsError(f"NEWSBOT_WEBHOOK_LISTEN: expected address:port such as 127.0.0.1:8443, "
                                    f"got {raw_listen!r}") from None
        listen = (host, _int(port, "NEWSBOT_WEBHOOK_LISTEN", 1, 65535))
    secret = values.get("NEWSBOT_WEBHOOK_SECRET", "").strip()
    if not url:
        return "", listen, secret
    parts = urlsplit(url)
    # Telegram only posts to HTTPS; plain http is accepted for a loopback host (the local sandbox).
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SettingsError(f"NEWSBOT_WEBHOOK_URL: must be an https:// URL, got {url!r}")
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        raise SettingsError("NEWSBOT_WEBHOOK_URL: expected https://host[:port]/path, without user, query or fragment")
    if not secret:
        raise SettingsError("NEWSBOT_WEBHOOK_SECRET: required in webhook mode (NEWSBOT_WEBHOOK_URL is set)")
    if not _WEBHOOK_SECRET.fullmatch(secret):
        raise SettingsError("NEWSBOT_WEBHOOK_SECRET: 16 to 256 characters from A-Z, a-z, 0-9, _ and -")
    return url, listen, secret


def settings_from(values: Mapping[str, str]) -> Settings:
    """Settings from variable values (environment over .env); raises SettingsError naming a bad one."""

    token = values.get("TELEGRAM_BOT_TOKEN", "").strip()
    if token and (":" not in token or any(c.isspace() for c in token)):
        raise SettingsError("TELEGRAM_BOT_TOKEN: expected the form 123456:ABC… from @BotFather")
    api_url = values.get("TELEGRAM_API_URL", DEFAULT_API_URL).strip().rstrip("/") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise SettingsError(f"TELEGRAM_API_URL: must start with http:// or https://, got {api_url!r}")
    admins: set[int] = set()
    for part in values.get("NEWSBOT_ADMIN_IDS", "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            admins.add(int(part))
        except ValueError as exc:
            raise SettingsError(f"NEWSBOT_ADMIN_IDS: {part!r} is not a numeric user id") from exc
    level = values.get("NEWSBOT_LOG_LEVEL", "WARNING").strip().upper() or "WARNING"
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(f"NEWSBOT_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    feeds = tuple(p.strip() for p in values.get("NEWSBOT_FEEDS", "").split(",") if p.strip())
    for old, new in _RENAMED.items():
        if values.get(old, "").strip():
            raise SettingsError(f"{old}: renamed to {new} (see .env.example)")
    allow_private, networks = _private_networks(
        values.get("NEWSBOT_ALLOW_PRIVATE_NETWORKS", ""), "NEWSBOT_ALLOW_PRIVATE_NETWORKS")
    webhook_url, webhook_listen, webhook_secret = _webhook(values)
    return Settings(
        webhook_url=webhook_url, webhook_listen=webhook_listen, webhook_secret=webhook_secret,
        token=token,
        api_url=api_url,
        admin_ids=frozenset(admins),
        db_path=Path(values.get("NEWSBOT_DB", DEFAULT_DB).strip() or DEFAULT_DB),
        timezone=_zone(values.get("NEWSBOT_TIMEZONE", DEFAULT_TZ).strip() or DEFAULT_TZ, "NEWSBOT_TIMEZONE"),
        log_level=level,
        poll_seconds=_int(values.get("NEWSBOT_POLL_SECONDS", "300"), "NEWSBOT_POLL_SECONDS", 1, 86400),
        dispatch_seconds=_int(values.get("NEWSBOT_DISPATCH_SECONDS", "30"), "NEWSBOT_DISPATCH_SECONDS", 1, 3600),
        feeds=feeds,
        retention_days=_int(values.get("NEWSBOT_RETENTION_DAYS", "180").strip() or "180", "NEWSBOT_RETENTION_DAYS",
                            0, 36500),
        backup_dir=Path(values["NEWSBOT_BACKUP_DIR"].strip()) if values.get("NEWSBOT_BACKUP_DIR", "").strip() else None,
        backup_keep=_int(values.get("NEWSBOT_BACKUP_KEEP", "7").strip() or "7", "NEWSBOT_BACKUP_KEEP", 1, 1000),
        metrics_listen=_listen(values.get("NEWSBOT_METRICS_LISTEN", ""), "NEWSBOT_METRICS_LISTEN"),
        allow_private_networks=allow_private,
        private_networks=networks,
        feed_roots=_roots(values.get("NEWSBOT_FEED_ROOTS", "")),
        max_items_per_fetch=_int(values.get("NEWSBOT_MAX_ITEMS_PER_FETCH", str(DEFAULT_MAX_ITEMS_PER_FETCH)),
                                 "NEWSBOT_MAX_ITEMS_PER_FETCH", 1, 100_000),
        max_new_per_feed_day=_int(values.get("NEWSBOT_MAX_NEW_PER_FEED_DAY", str(DEFAULT_MAX_NEW_PER_FEED_DAY)),
                                  "NEWSBOT_MAX_NEW_PER_FEED_DAY", 1, 1_000_000),
    )
