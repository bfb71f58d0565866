"""Reading and changing the co-op's dated settings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from marketplace.domain.settings import SettingError, spec
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import CoopSetting
from marketplace.models.base import utcnow
from marketplace.services import audit


def get(key: str, on: date | None = None):
    """The value in force on ``on`` (today by default): the latest row effective on or before it, else the default."""
    definition = spec(key)
    on = on or utcnow().date()
    raw = db.session.scalar(
        select(CoopSetting.value)
        .where(CoopSetting.key == key, CoopSetting.effective_from <= on)
        .order_by(CoopSetting.effective_from.desc())
        .limit(1)
    )
    return definition.parse(raw if raw is not None else definition.default)


def set_value(key: str, raw: str, effective_from: date, *, actor_id: int | None = None, note: str = "") -> CoopSetting:
    """Add a dated value (the caller commits). Earlier rows stay: the history of the decision is kept."""
    try:
        value = spec(key).parse(raw)
    except SettingError as exc:
        raise ValidationFailed({key: str(exc)}) from exc
    existing = db.session.scalar(
        select(CoopSetting).where(CoopSetting.key == key, CoopSetting.effective_from == effective_from)
    )
    if existing is not None:
        raise ValidationFailed({key: f"A value for {effective_from} is already set; choose another date."})
    row = CoopSetting(key=key, value=str(value), effective_from=effective_from, created_by_id=actor_id, note=note)
    db.session.add(row)
    audit.record("setting.changed", actor_id=actor_id, detail=f"{key}={value} from {effective_from}")
    return row
