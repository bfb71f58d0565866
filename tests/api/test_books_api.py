"""Treasurer API: expenses, other income and reports; roles, validation and idempotency keys."""

import pytest

EXPENSE = {"occurred_on": "2026-01-31", "category": "hosting", "amount_cents": 4_900, "memo": "Hosting"}
INCOME = {"occurred_on": "2026-02-28", "kind": "interest", "amount_cents": 127, "memo": "Interest"}


@pytest.fixture
def treasurer_headers(make_user, api_token):
    return api_token(make_user("treasurer"))


def test_treasurer_records_and_lists_expenses_and_income(client, treasurer_headers):
    created = client.post("/api/v1/expenses", json=EXPENSE, headers=treasurer_headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert {k: body[k] for k in EXPENSE} == EXPENSE
    assert body["category_label"] == "Hosting and software" and body["journal_entry_id"] > 0
    assert client.post("/api/v1/income", json=INCOME, headers=treasurer_headers).status_code == 201
    listing = client.get("/api/v1/expenses?start=2026-01-01&end=2026-01-31", headers=treasurer_headers).get_json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == body["id"]
    assert client.get("/api/v1/expenses?start=2026-02-01", headers=treasurer_headers).get_json()["total"] == 0
    assert client.get("/api/v1/income", headers=treasurer_headers).get_json()["items"][0]["amount_cents"] == 127


def test_the_same_idempotency_key_gives_the_same_response_and_one_expense(client, treasurer_headers):
    headers = {**treasurer_headers, "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/expenses", json=EXPENSE, headers=headers)
    second = client.post("/api/v1/expenses", json=EXPENSE, headers=headers)
    assert (first.status_code, first.get_json()) == (second.status_code, second.get_json())
    assert client.get("/api/v1/expenses", headers=treasurer_headers).get_json()["total"] == 1
    changed = client.post("/api/v1/expenses", json={**EXPENSE, "amount_cents": 1}, headers=headers)
    assert changed.status_code == 409


def test_bad_bodies_are_422_with_field_messages(client, treasurer_headers):
    cases = [
        ({**EXPENSE, "category": "yachts"}, "category"),
        ({**EXPENSE, "amount_cents": 0}, "amount_cents"),
        ({**EXPENSE, "amount_cents": 1.5}, "amount_cents"),
        ({**EXPENSE, "occurred_on": "2026-02-30"}, "occurred_on"),
        ({**EXPENSE, "occurred_on": "2999-01-01"}, "occurred_on"),
        ({k: v for k, v in EXPENSE.items() if k != "memo"}, "memo"),
    ]
    for body, field in cases:
        resp = client.post("/api/v1/expenses", json=body, headers=treasurer_headers)
        assert resp.status_code == 422, body
        assert field in resp.get_json()["error"]["fields"], resp.get_json()
    bad_date = client.get("/api/v1/reports/income-statement?start=soon", headers=treasurer_headers)
    assert bad_date.status_code == 422 and "start" in bad_date.get_json()["error"]["fields"]
    backwards = client.get("/api/v1/reports/income-statement?start=2026-02-01&end=2026-01-01",
                           headers=treasurer_headers)
    assert backwards.status_code == 422


def test_roles_admins_read_others_are_refused(client, make_user, api_token):
    assert client.get("/api/v1/expenses").status_code == 401
    worker = api_token(make_user("worker", "member"))
    assert client.get("/api/v1/reports/trial-balance", headers=worker).status_code == 403
    admin = api_token(make_user("admin"))
    assert client.get("/api/v1/expenses", headers=admin).status_code == 200
    assert client.post("/api/v1/expenses", json=EXPENSE, headers=admin).status_code == 403


def test_reports(client, treasurer_headers):
    client.post("/api/v1/expenses", json=EXPENSE, headers=treasurer_headers)
    client.post("/api/v1/income", json=INCOME, headers=treasurer_headers)
    statement = client.get("/api/v1/reports/income-statement?start=2026-01-01&end=2026-12-31",
                           headers=treasurer_headers).get_json()
    assert statement["other_income_cents"] == 127 and statement["total_expenses_cents"] == 4_900
    assert statement["net_margin_cents"] == 127 - 4_900
    assert statement["expenses"] == [{"code": "5000:hosting", "label": "Hosting and software", "cents": 4_900}]
    sheet = client.get("/api/v1/reports/balance-sheet?as_of=2026-12-31", headers=treasurer_headers).get_json()
    assert sheet["balanced"] and sheet["assets"] == [{"code": "1000", "label": "Bank", "cents": 127 - 4_900}]
    trial = client.get("/api/v1/reports/trial-balance?as_of=2026-12-31", headers=treasurer_headers).get_json()
    assert trial["total_debit_cents"] == trial["total_credit_cents"] == 4_900


def test_the_operations_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/expenses", "/api/v1/income", "/api/v1/reports/income-statement",
                 "/api/v1/reports/balance-sheet", "/api/v1/reports/trial-balance"):
        assert path in spec["paths"]
    assert set(spec["paths"]["/api/v1/expenses"]) == {"get", "post"}
