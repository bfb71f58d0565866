"""Reading the bank CSV: every valid row, or every problem by line and column."""

from datetime import date

import pytest

from marketplace.domain.bank_import import (
    MAX_ROWS,
    BankImportError,
    BankRow,
    content_hash,
    decode_upload,
    parse_bank_csv,
    split_problem,
)
from marketplace.domain.books import (
    RECEIPT_MAX_BYTES,
    ReceiptError,
    amount_problem,
    category_label,
    sniff_receipt,
)

GOOD = (
    "date,amount,description,category\n"
    "2026-01-31,49.00,Hosting for January,hosting\n"
    "2026-02-01,\"1,250.5\",Insurance premium,Insurance\n"
    "\n"
    "2026-02-28,1.27,Savings interest,income:interest\n"
)


def problems_of(text: str, **kwargs) -> list[str]:
    with pytest.raises(BankImportError) as caught:
        parse_bank_csv(text, **kwargs)
    return caught.value.problems


def test_a_good_file_gives_every_row_with_its_line_number():
    rows = parse_bank_csv(GOOD)
    assert rows == [
        BankRow(2, date(2026, 1, 31), 4900, "Hosting for January", "expense", "hosting"),
        BankRow(3, date(2026, 2, 1), 125050, "Insurance premium", "expense", "insurance"),
        BankRow(5, date(2026, 2, 28), 127, "Savings interest", "income", "interest"),
    ]


def test_columns_may_come_in_any_order_with_extra_columns_ignored():
    text = " Category ,DESCRIPTION,balance,amount,date\r\nbank-fees,Monthly fee,900.00,3.50,2026-03-01\r\n"
    assert parse_bank_csv(text) == [BankRow(2, date(2026, 3, 1), 350, "Monthly fee", "expense", "bank-fees")]


def test_every_problem_is_reported_by_line_and_column():
    text = (
        "date,amount,description,category\n"
        "2026-01-31,49.00,Hosting,hosting\n"
        "31/01/2026,-5,Refund,hosting\n"
        "2026-02-30,12.345,,yachts\n"
        "2026-03-01,0,Nothing,income:lottery\n"
        "2026-03-01,10\n"
    )
    problems = problems_of(text)
    assert problems[0] == "line 3, column date: '31/01/2026' is not a date; use YYYY-MM-DD"
    assert problems[1] == "line 3, column amount: '-5' is negative; a positive amount is required"
    assert problems[2] == "line 4, column date: '2026-02-30' is not a real date"
    assert problems[3].startswith("line 4, column amount: '12.345' is not an amount")
    assert problems[4] == "line 4, column description: missing value"
    assert problems[5].startswith("line 4, column category: 'yachts' is not an expense category (one of: hosting,")
    assert problems[6] == "line 5, column amount: '0' must be more than 0"
    assert problems[7].startswith("line 5, column category: 'lottery' is not a kind of income")
    assert problems[8:] == ["line 6, column description: missing value", "line 6, column category: missing value"]


def test_future_dates_and_huge_amounts_and_long_descriptions_are_refused():
    text = ("date,amount,description,category\n"
            f"2026-05-02,10000000.01,{'x' * 201},hosting\n")
    problems = problems_of(text, today=date(2026, 5, 1))
    assert problems == [
        "line 2, column date: 2026-05-02 is in the future",
        "line 2, column amount: '10000000.01' is above the $10,000,000.00 limit for one line",
        "line 2, column description: must be at most 200 characters (has 201)",
    ]
    assert parse_bank_csv(text.replace("10000000.01", "10000000.00").replace("x" * 201, "x" * 200))


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["line 1: the file is empty (the header must be date,amount,description,category)"]),
    ("date,amount,memo,category\n2026-01-01,1,x,hosting\n",
     ["line 1, column description: missing column (the header must be date,amount,description,category)"]),
    ("date,amount,description,category,Amount\n",
     ["line 1, column amount: the column appears more than once"]),
    ("date,amount,description,category\n\n\n", ["line 2: the file has a header but no rows"]),
])
def test_header_problems(text, expected):
    assert problems_of(text) == expected


def test_broken_quoting_is_reported_with_its_line_after_earlier_problems():
    text = 'date,amount,description,category\n2026-01-01,x,a,hosting\n2026-01-01,1.00,"a"b,hosting\n'
    assert problems_of(text) == [
        "line 2, column amount: 'x' is not an amount (use digits with up to two decimals, e.g. 1234.50)",
        "line 3: not valid CSV (',' expected after '\"')",
    ]
    unclosed = 'date,amount,description,category\n2026-01-01,1.00,"unclosed,hosting\n'
    assert problems_of(unclosed) == ["line 2: not valid CSV (unexpected end of data)"]


def test_too_many_rows_are_refused():
    text = "date,amount,description,category\n" + "2026-01-01,1.00,x,hosting\n" * (MAX_ROWS + 1)
    assert problems_of(text) == [f"line {MAX_ROWS + 2}: the file has more than {MAX_ROWS} rows; split it"]


def test_content_hash_ignores_bom_and_line_endings_but_not_content():
    assert content_hash(GOOD) == content_hash("\ufeff" + GOOD.replace("\n", "\r\n"))
    assert content_hash(GOOD) != content_hash(GOOD.replace("49.00", "49.01"))


def test_decode_upload_accepts_utf8_with_bom_and_refuses_other_encodings():
    assert decode_upload("\ufeffdate,amount".encode()) == "date,amount"
    with pytest.raises(BankImportError, match="line 1: the file is not UTF-8 text"):
        decode_upload("Café".encode("latin-1"))
    with pytest.raises(BankImportError, match="limit is 1 MB"):
        decode_upload(b"x" * (1024 * 1024 + 1))


def test_receipts_are_recognised_by_content_not_name():
    assert sniff_receipt(b"%PDF-1.7 rest").extension == "pdf"
    assert sniff_receipt(b"\x89PNG\r\n\x1a\nrest").content_type == "image/png"
    assert sniff_receipt(b"\xff\xd8\xff\xe0rest").extension == "jpg"
    for bad in (b"", b"<html><script>", b"GIF89a"):
        with pytest.raises(ReceiptError):
            sniff_receipt(bad)
    with pytest.raises(ReceiptError, match="limit is 5 MB"):
        sniff_receipt(b"%PDF-" + b"0" * RECEIPT_MAX_BYTES)


def test_amount_rules_and_labels():
    assert amount_problem(1) is None
    assert amount_problem(True) == "must be a whole number of cents"
    assert amount_problem(1.5) == "must be a whole number of cents"
    assert amount_problem(0) == "must be more than 0"
    assert category_label("hosting") == "Hosting and software"
    assert category_label("legacy-thing") == "Legacy thing"


def test_problems_split_into_line_column_and_message():
    assert split_problem("line 3, column amount: 'x' is not an amount") == ("3", "amount", "'x' is not an amount")
    assert split_problem("line 1: the file is empty") == ("1", "", "the file is empty")
    assert split_problem("something else") == ("", "", "something else")
