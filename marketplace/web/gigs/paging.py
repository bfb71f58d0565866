"""One page of an in-memory list, with the attributes the ``pagination`` macro reads."""

from __future__ import annotations

import math
from collections.abc import Sequence


class ListPage:
    """Like Flask-SQLAlchemy's Pagination (items, page, pages, total, has_prev/next, prev/next_num)."""

    def __init__(self, items: Sequence, page: int, per_page: int):
        self.total = len(items)
        self.per_page = per_page
        self.pages = max(1, math.ceil(self.total / per_page))
        self.page = min(max(1, page), self.pages)
        start = (self.page - 1) * per_page
        self.items = list(items[start:start + per_page])

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def __iter__(self):
        return iter(self.items)
