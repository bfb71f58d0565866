"""The treasurer's books in the browser: role checks, recording, receipts, the CSV import and the reports."""

import base64
import html
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

import books_support as bs

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
GOOD_FILE = (
    "date,amount,description,category\n"
    "2026-01-31,49.00,Hosting for January,hosting\n"
    "2026-02-28,1.27,Savings interest,income:interest\n"
)
PAGES = ["/treasury/books", "/treasury/books/expenses", "/treasury/books/income",
         "/treasury/reports/income-statement", "/treasury/reports/balance-sheet", "/treasury/reports/trial-balance",
         "/treasury/reports/earnings"]


@pytest.fixture
def treasurer(make_user, login):
    user = make_user("treasurer")
    login(user)
    return user


def count(db, model_name: str) -> int:
    import marketplace.models as models

    return db.session.scalar(select(func.count()).select_from(getattr(models, model_name)))


def no_inline_code(page: str) -> None:
    assert "style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []


def post_expense(client, get_csrf, **fields):
    token = get_csrf(client, "/treasury/books/expenses/new")
    data = {"csrf_token": token, "occurred_on": "2026-01-31", "category": "hosting", "amount": "49.00",
            "memo": "Hosting for January", **fields}
    return client.post("/treasury/books/expenses/new", data=data, content_type="multipart/form-data")


def test_only_treasurers_and_admins_get_in_and_only_treasurers_record(client, make_user, login, get_csrf):
    assert client.get("/treasury/books").status_code == 302
    login(make_user("worker", "member"))
    assert client.get("/treasury/books").status_code == 403
    assert client.get("/treasury/reports/income-statement").status_code == 403
    admin_client = client.application.test_client()
    login(make_user("admin"), test_client=admin_client)
    for path in PAGES:
        assert admin_client.get(path).status_code == 200, path
    assert admin_client.get("/treasury/books/expenses/new").status_code == 403
    assert admin_client.get("/treasury/books/import").status_code == 403
    token = get_csrf(admin_client, "/treasury/books")
    refused = admin_client.post("/treasury/books/income/new", data={"csrf_token": token, "occurred_on": "2026-01-01",
                                                                  "kind": "interest", "amount": "1", "memo": "x"})
    assert refused.status_code == 403


def test_every_page_renders_without_inline_script_or_style(client, treasurer):
    for path in [*PAGES, "/treasury/books/expenses/new", "/treasury/books/income/new", "/treasury/books/import"]:
        page = client.get(path)
        assert page.status_code == 200, path
        no_inline_code(page.get_data(as_text=True))


def test_recording_an_expense_with_a_receipt(client, db, treasurer, make_user, login, get_csrf):
    resp = post_expense(client, get_csrf, request_key="key-1", receipt=(io.BytesIO(PNG), "till slip.png"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    again = post_expense(client, get_csrf, request_key="key-1", receipt=(io.BytesIO(PNG), "till slip.png"))
    assert again.status_code == 302 and again.location == resp.location
    assert count(db, "Expense") == 1 and count(db, "JournalEntry") == 1
    detail = client.get(resp.location).get_data(as_text=True)
    assert "till_slip.png" in detail and "Hosting and software" in detail
    expense_id = int(resp.location.rstrip("/").rsplit("/", 1)[1])
    download = client.get(f"/treasury/books/expenses/{expense_id}/receipt")
    assert download.status_code == 200 and download.data == PNG
    assert download.mimetype == "image/png" and "attachment" in download.headers["Content-Disposition"]
    outsider = client.application.test_client()
    login(make_user("worker"), test_client=outsider)
    assert outsider.get(f"/treasury/books/expenses/{expense_id}/receipt").status_code == 403


def test_bad_expense_input_is_shown_beside_the_fields(client, db, treasurer, get_csrf):
    resp = post_expense(client, get_csrf, amount="12.345", occurred_on="2999-01-01")
    assert resp.status_code == 422
    assert "is not an amount" in resp.get_data(as_text=True)
    future = post_expense(client, get_csrf, occurred_on="2999-01-01")
    assert future.status_code == 422
    assert "The date is in the future." in future.get_data(as_text=True)
    fake = post_expense(client, get_csrf, receipt=(io.BytesIO(b"<svg onload=alert(1)>"), "x.png"))
    assert fake.status_code == 422
    assert "A receipt must be a PDF, PNG or JPEG file." in fake.get_data(as_text=True)
    assert count(db, "Expense") == 0


def test_recording_other_income(client, db, treasurer, get_csrf):
    token = get_csrf(client, "/treasury/books/income/new")
    resp = client.post("/treasury/books/income/new", data={
        "csrf_token": token, "occurred_on": "2026-03-31", "kind": "interest", "amount": "1.27",
        "memo": "Savings interest", "request_key": "k"})
    assert resp.status_code == 302
    listing = client.get("/treasury/books/income").get_data(as_text=True)
    assert "Savings interest" in listing and "$1.27" in listing


def upload(client, get_csrf, text: str, name: str = "bank.csv"):
    token = get_csrf(client, "/treasury/books/import")
    return client.post("/treasury/books/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(text.encode()), name)})


def test_a_bad_file_shows_every_problem_and_saves_nothing(client, db, treasurer, get_csrf):
    resp = upload(client, get_csrf, GOOD_FILE + "2026-03-01,abc,Broken,hosting\n2026-03-02,5,,travel\n")
    page = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422
    assert "The file has 3 problems; nothing was imported." in page
    cells = [tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in row)
             for row in re.findall(r"<tr><td>(\d*)</td><td>(.*?)</td><td class=\"field-error\">(.*?)</td></tr>", page)]
    assert cells[0][:2] == ("4", "amount") and cells[0][2].startswith("'abc' is not an amount")
    assert cells[1] == ("5", "description", "missing value")
    assert cells[2][:2] == ("5", "category") and cells[2][2].startswith("'travel' is not an expense category")
    assert count(db, "Expense") == count(db, "ImportBatch") == 0


def test_a_good_file_is_previewed_then_imported_once(client, db, treasurer, get_csrf):
    preview = upload(client, get_csrf, GOOD_FILE, "january.csv")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 rows ready to import" in page
    assert count(db, "Expense") == 0
    content = re.search(r'name="content" type="hidden" value="([^"]+)"', page).group(1)
    assert base64.b64decode(content).decode() == GOOD_FILE
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post("/treasury/books/import/confirm",
                       data={"csrf_token": token, "content": content, "filename": "january.csv"})
    assert done.status_code == 302 and "/treasury/books/imports/" in done.location
    batch_page = client.get(done.location).get_data(as_text=True)
    assert "january.csv" in batch_page and "Hosting for January" in batch_page
    assert count(db, "Expense") == count(db, "OtherIncome") == 1
    twice = upload(client, get_csrf, GOOD_FILE)
    assert twice.status_code == 409 and "already imported" in twice.get_data(as_text=True)
    replay = client.post("/treasury/books/import/confirm",
                         data={"csrf_token": token, "content": content, "filename": "january.csv"})
    assert replay.status_code == 302 and count(db, "Expense") == 1


@pytest.fixture
def ledger_with_gigs(db, make_user):
    from marketplace.services import books

    cat = bs.category(db)
    client_user, worker = make_user("client"), make_user("worker", "member", name="Ana Morales")
    job = bs.confirmed_gig(db, client=client_user, worker=worker, cat=cat, on=date(2026, 2, 10), rate_cents=3_000,
                           minutes=120, member=True)
    price = bs.charge(db, job)
    books.record_expense(occurred_on=date(2026, 2, 11), category="insurance", amount_cents=1_000,
                         memo="Liability cover", actor_id=None)
    return {"worker": worker, "price": price}


def test_income_statement_page_has_figures_charts_and_a_csv(client, treasurer, ledger_with_gigs):
    fee = ledger_with_gigs["price"].fee_cents
    page = client.get("/treasury/reports/income-statement?start=2026-01-01&end=2026-12-31")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count("<svg") == 3 and 'aria-label="Expenses by category"' in text
    assert f"${fee // 100}.{fee % 100:02d}" in text
    no_inline_code(text)
    csv_resp = client.get("/treasury/reports/income-statement.csv?start=2026-01-01&end=2026-12-31")
    assert csv_resp.mimetype == "text/csv"
    assert 'filename="income-statement_2026-01-01_2026-12-31.csv"' in csv_resp.headers["Content-Disposition"]
    assert f"total,,Net margin,{(fee - 1_000) // 100}.{(fee - 1_000) % 100:02d}" in csv_resp.get_data(as_text=True)


def test_bad_report_dates_are_field_errors(client, treasurer):
    backwards = client.get("/treasury/reports/income-statement?start=2026-12-31&end=2026-01-01")
    assert backwards.status_code == 422
    assert "The end date is before the start date." in backwards.get_data(as_text=True)
    assert client.get("/treasury/reports/balance-sheet?as_of=yesterday").status_code == 422
    assert client.get("/treasury/reports/trial-balance.csv?as_of=2026-13-01").status_code == 422


def test_balance_sheet_trial_balance_and_earnings_pages_and_csvs(client, treasurer, ledger_with_gigs):
    worker = ledger_with_gigs["worker"]
    earned = ledger_with_gigs["price"].worker_earnings_cents
    sheet = client.get("/treasury/reports/balance-sheet?as_of=2026-12-31").get_data(as_text=True)
    assert "Assets equal liabilities plus equity." in sheet
    trial = client.get("/treasury/reports/trial-balance.csv?as_of=2026-12-31").get_data(as_text=True)
    assert trial.splitlines()[0] == "account,name,debit,credit"
    total = trial.splitlines()[-1].split(",")
    assert total[2] == total[3]
    statement = client.get(f"/treasury/reports/earnings?worker={worker.id}&start=2026-01-01&end=2026-12-31")
    assert statement.status_code == 200 and "Ana Morales" in statement.get_data(as_text=True)
    csv_text = client.get(f"/treasury/reports/earnings.csv?worker={worker.id}&start=2026-01-01&end=2026-12-31")
    last = csv_text.get_data(as_text=True).splitlines()[-1]
    assert last.endswith(f"{earned // 100}.{earned % 100:02d},0.00,{earned // 100}.{earned % 100:02d}")
    assert client.get("/treasury/reports/earnings?worker=999999").status_code == 422

