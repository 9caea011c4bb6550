"""The daily upkeep the maintenance job runs: a backup (NEWSBOT_BACKUP_DIR), then retention
(NEWSBOT_RETENTION_DAYS). The job ticks hourly; each task runs when a day has passed since it last did
(meta 'last_backup_at', 'last_retention_at'), so a bot restarted often still does both."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.settings import Settings
from storage.backup import BackupReport, scheduled_backup
from storage.db import Database
from storage.outbox import get_meta, set_meta
from storage.retention import PurgeReport, cutoff_for, purge

log = logging.getLogger("newsbot.maintenance")

EVERY = timedelta(days=1)


@dataclass
class MaintenanceReport:
    backup: BackupReport | None = None
    purge: PurgeReport | None = None


async def _due(db: Database, key: str, now: datetime) -> bool:
    last = await get_meta(db, key)
    return last is None or now.timestamp() - float(last) >= EVERY.total_seconds()


async def run_maintenance(db: Database, settings: Settings, now: datetime, *, force: bool = False) -> MaintenanceReport:
    """Back up, then purge, each when due (or both now with `force`)."""
    report = MaintenanceReport()
    if settings.backup_dir is not None and str(settings.db_path) != ":memory:" and (
            force or await _due(db, "last_backup_at", now)):
        report.backup = await asyncio.to_thread(scheduled_backup, settings.db_path, settings.backup_dir,
                                                settings.backup_keep, now)
        await set_meta(db, "last_backup_at", str(int(now.timestamp())))
        log.info("event=backup path=%s bytes=%d seconds=%.1f", report.backup.path, report.backup.bytes,
                 report.backup.seconds)
    if settings.retention_days > 0 and (force or await _due(db, "last_retention_at", now)):
        report.purge = await purge(db, older_than=cutoff_for(now, settings.retention_days), now=now)
        await set_meta(db, "last_retention_at", str(int(now.timestamp())))
        log.info("event=retention %s longest_batch_ms=%.0f", report.purge.summary_line(),
                 report.purge.longest_batch * 1000)
    return report
