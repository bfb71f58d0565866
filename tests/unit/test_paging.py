"""The one page type every paginated screen uses."""

from marketplace.domain.paging import Page, bounded, clamp, page_of_list


def test_an_empty_list_is_one_empty_page():
    page = page_of_list([], 3, 20)
    assert (page.page, page.pages, page.items, page.has_prev, page.has_next) == (1, 1, [], False, False)
    assert (page.prev_num, page.next_num) == (None, None)


def test_pages_cover_the_list_exactly_once():
    items = list(range(45))
    pages = [page_of_list(items, n, 20) for n in (1, 2, 3)]
    assert [item for page in pages for item in page] == items
    assert [(p.prev_num, p.next_num) for p in pages] == [(None, 2), (1, 3), (2, None)]
    assert {p.pages for p in pages} == {3} and {p.total for p in pages} == {45}


def test_out_of_range_pages_clamp():
    assert clamp(0, 45, 20) == 1 and clamp(-5, 45, 20) == 1 and clamp(99, 45, 20) == 3 and clamp(2, 0, 20) == 1
    assert page_of_list(list(range(45)), 99, 20).items == list(range(40, 45))


def test_a_database_page_reports_the_whole_total():
    page = Page(items=["a", "b"], page=2, per_page=2, total=5)
    assert (page.pages, page.has_prev, page.has_next, list(page)) == (3, True, True, ["a", "b"])


def test_a_requested_number_is_bounded_to_one_and_the_highest():
    assert [bounded(n, 10_000) for n in (-5, 0, 1, 37, 10_000, 10**30)] == [1, 1, 1, 37, 10_000, 10_000]
