"""The bot's settings: one frozen object built from NEWSBOT_* / TELEGRAM_* values (pure; bot/app/config.py reads them).

Invalid values fail with `SettingsError` naming the variable; the token is never part of a repr.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DB = "./data/newsbot.sqlite3"
DEFAULT_TZ = "Asia/Shanghai"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    admin_ids: frozenset[int] = frozenset()
    db_path: Path = Path(DEFAULT_DB)
    timezone: ZoneInfo = ZoneInfo(DEFAULT_TZ)
    log_level: str = "WARNING"
    poll_seconds: int = 300
    dispatch_seconds: int = 30
    feeds: tuple[str, ...] = ()
    # Non-public networks feeds may reach anyway (NEWSBOT_FEEDS_ALLOW); none by default.
    feeds_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Folders an admin may add from a chat (NEWSBOT_FOLDER_ROOTS): these and below; none by default.
    folder_roots: tuple[Path, ...] = ()

    @property
    def has_token(self) -> bool:
        return bool(self.token)


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
    return Settings(
        token=token,
        api_url=api_url,
        admin_ids=frozenset(admins),
        db_path=Path(values.get("NEWSBOT_DB", DEFAULT_DB).strip() or DEFAULT_DB),
        timezone=_zone(values.get("NEWSBOT_TIMEZONE", DEFAULT_TZ).strip() or DEFAULT_TZ, "NEWSBOT_TIMEZONE"),
        log_level=level,
        poll_seconds=_int(values.get("NEWSBOT_POLL_SECONDS", "300"), "NEWSBOT_POLL_SECONDS", 1, 86400),
        dispatch_seconds=_int(values.get("NEWSBOT_DISPATCH_SECONDS", "30"), "NEWSBOT_DISPATCH_SECONDS", 1, 3600),
        feeds=feeds,
        feeds_allow=_networks(values.get("NEWSBOT_FEEDS_ALLOW", ""), "NEWSBOT_FEEDS_ALLOW"),
        folder_roots=tuple(Path(p.strip()) for p in values.get("NEWSBOT_FOLDER_ROOTS", "").split(",") if p.strip()),
    )
