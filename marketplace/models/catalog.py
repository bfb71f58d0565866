"""The services the co-op offers."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db


class ServiceCategory(db.Model):
    __tablename__ = "service_categories"
    __table_args__ = (CheckConstraint("rate_floor_cents >= 0", name="rate_floor_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    # The lowest hourly rate a worker may charge in this category, set by the co-op.
    rate_floor_cents: Mapped[int] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(default=True)
