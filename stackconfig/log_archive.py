"""The S3 archive that keeps access and audit logs forever (LOG-1)."""

from __future__ import annotations

from dataclasses import dataclass

from .reader import Reader


@dataclass(frozen=True)
class LogArchiveConfig:
    object_lock_mode: str
    object_lock_days: int
    cold_storage_after_days: int


def load(r: Reader) -> LogArchiveConfig:
    return LogArchiveConfig(
        object_lock_mode=r.string("logArchiveObjectLockMode", choices=("GOVERNANCE", "COMPLIANCE")),
        object_lock_days=r.integer("logArchiveObjectLockDays", minimum=1, maximum=36500),
        cold_storage_after_days=r.integer("logArchiveColdAfterDays", minimum=30, maximum=3650),
    )
