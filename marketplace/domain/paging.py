"""One page of a longer list: what every paginated screen hands to the ``pagination`` macro.

The attributes are those of Flask-SQLAlchemy's ``Pagination`` (items, page, per_page, total, pages,
has_prev/has_next, prev_num/next_num), so templates read any list the same way, whether the page was cut by
the database (``LIMIT``/``OFFSET`` with a count) or from a list already in memory (``page_of_list``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the whole list fills; an empty list is one empty page."""
        return max(1, math.ceil(self.total / self.per_page))

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


def bounded(number: int, highest: int) -> int:
    """``number`` brought within 1 and ``highest``: a page number or page size taken from a request."""
    return min(max(1, number), highest)


def clamp(page: int, total: int, per_page: int) -> int:
    """``page`` brought within 1 and the last page of ``total`` items."""
    return bounded(page, max(1, math.ceil(total / per_page)))


def page_of_list(items: Sequence, page: int, per_page: int) -> Page:
    """Slice an in-memory list into one page; a page past the end shows the last one."""
    page = clamp(page, len(items), per_page)
    return Page(list(items[(page - 1) * per_page: page * per_page]), page, per_page, len(items))
