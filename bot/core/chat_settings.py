"""Parse and validate `/settings` arguments; and the time rules they imply (quiet hours, digest times).

Pure: text in, a `SettingChange` (column → value) or a `SettingError(message key)` out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.clean import fold
from bot.core.errors import SettingError

MAX_DIGEST_TIMES = 6
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")
# "23:00-07:00". The start is at most 5 characters (HH:MM): with `\S+?` every dash of "a-a-a-…" was
# tried as the separator, each followed by a read to the end.
_QUIET_RANGE = re.compile(r"(\S{1,5}?)\s*+[-–~到至]\s*+(\S++)")


@dataclass(frozen=True)
class SettingChange:
    values: dict[str, object] = field(default_factory=dict)
    shown: str = ""  # what was set, for the confirmation message


def parse_hhmm(text: str) -> str | None:
    m = _HHMM.match(text.strip())
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else None


def parse_setting(args: list[str]) -> SettingChange | SettingError:
    """`/settings KEY VALUE…` → the columns to store."""
    key = fold(args[0]) if args else ""
    value = " ".join(args[1:]).strip()
    if key not in {"mode", "time", "times", "quiet", "length", "lang", "language", "tz", "timezone", "script"}:
        return SettingError("settings_bad_key", key=args[0][:40] if args else "")
    if not value:
        return SettingError("settings_missing_value", key=key)
    v = fold(value)
    if key == "mode":
        if v not in ("instant", "digest"):
            return SettingError("settings_bad_mode")
        return SettingChange({"mode": v}, f"mode {v}")
    if key in ("time", "times"):
        parts = [p for p in re.split(r"[,，\s]+", value) if p]
        times = [parse_hhmm(p) for p in parts]
        if not parts or len(parts) > MAX_DIGEST_TIMES or any(t is None for t in times):
            return SettingError("settings_bad_time")
        ordered = tuple(sorted({t for t in times if t}))
        return SettingChange({"digest_times": ordered}, "time " + ",".join(ordered))
    if key == "quiet":
        if v in ("off", "none", "关闭", "0"):
            return SettingChange({"quiet_start": None, "quiet_end": None}, "quiet off")
        m = _QUIET_RANGE.fullmatch(value)
        start, end = (parse_hhmm(m.group(1)), parse_hhmm(m.group(2))) if m else (None, None)
        if not start or not end or start == end:
            return SettingError("settings_bad_quiet")
        return SettingChange({"quiet_start": start, "quiet_end": end}, f"quiet {start}-{end}")
    if key == "length":
        if not re.fullmatch(r"[1-5]", v):
            return SettingError("settings_bad_length")
        return SettingChange({"summary_length": int(v)}, f"length {v}")
    if key in ("lang", "language"):
        lang = {"zh": "zh", "cn": "zh", "中文": "zh", "en": "en", "english": "en"}.get(v)
        if lang is None:
            return SettingError("settings_bad_lang")
        return SettingChange({"language": lang}, f"lang {lang}")
    if key == "script":
        return _script_setting(v)
    zone = valid_zone(value)
    if zone is None:
        return SettingError("settings_bad_tz", tz=value[:60])
    return SettingChange({"timezone": zone}, f"tz {zone}")


def valid_zone(name: str) -> str | None:
    name = name.strip()
    if not name or len(name) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name) or ".." in name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def in_quiet_hours(now: datetime, tz: str, start: str | None, end: str | None) -> bool:
    """Whether `now` falls in the chat's local quiet window (which may cross midnight)."""
    if not start or not end:
        return False
    local = now.astimezone(ZoneInfo(tz))
    m, s, e = local.hour * 60 + local.minute, _minutes(start), _minutes(end)
    return s <= m < e if s < e else (m >= s or m < e)


def quiet_ends_at(now: datetime, tz: str, start: str | None, end: str | None) -> datetime | None:
    """When the current quiet window ends (UTC), or None when not in quiet hours."""
    if not in_quiet_hours(now, tz, start, end):
        return None
    assert end is not None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    h, m = map(int, end.split(":"))
    candidate = datetime.combine(local.date(), time(h, m), zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(h, m), zone)
    return candidate.astimezone(now.tzinfo)


def last_digest_slot(now: datetime, tz: str, times: tuple[str, ...]) -> datetime | None:
    """The most recent scheduled digest time at or before `now` (within the last 48 h), as aware UTC."""
    if not times:
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    best: datetime | None = None
    for days in (0, 1, 2):
        day = local.date() - timedelta(days=days)
        for hhmm in times:
            h, m = map(int, hhmm.split(":"))
            slot = datetime.combine(day, time(h, m), zone)
            if slot <= local and (best is None or slot > best):
                best = slot
        if best is not None:
            break
    return best.astimezone(now.tzinfo) if best else None


# /settings script: how Chinese is shown (bot.core.script); "auto" follows the Telegram client's language.
_SCRIPTS = {
    "auto": None, "默认": None, "默認": None, "自动": None, "自動": None,
    "hans": "hans", "simplified": "hans", "简体": "hans", "簡體": "hans", "zh-hans": "hans", "zh-cn": "hans",
    "hant": "hant", "traditional": "hant", "繁体": "hant", "繁體": "hant", "zh-hant": "hant",
    "tw": "tw", "zh-tw": "tw", "台湾": "tw", "台灣": "tw", "臺灣": "tw",
    "hk": "hk", "zh-hk": "hk", "香港": "hk",
}


def _script_setting(v: str) -> SettingChange | SettingError:
    if v not in _SCRIPTS:
        return SettingError("settings_bad_script")
    script = _SCRIPTS[v]
    return SettingChange({"script": script}, f"script {script or 'auto'}")
