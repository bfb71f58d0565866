from support import TEST_PASSWORD


def test_token_lifecycle(client, make_user):
    user = make_user("worker")
    resp = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": TEST_PASSWORD})
    assert resp.status_code == 201
    headers = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["roles"] == ["worker"]
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    again = client.get("/api/v1/me", headers=headers)
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "unauthorized"


def test_token_errors_use_the_error_shape(client, make_user):
    user = make_user("client")
    wrong = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "nope-nope-nope"})
    assert wrong.status_code == 401
    missing = client.post("/api/v1/auth/tokens", json={"email": user.email})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"password": "This field is required."}
    not_json = client.post("/api/v1/auth/tokens", data="email=x", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 422
    wrong_type = client.post("/api/v1/auth/tokens", json={"email": 5, "password": "x"})
    assert wrong_type.status_code == 422 and "email" in wrong_type.get_json()["error"]["fields"]
    for resp in (wrong, missing, not_json, wrong_type):
        assert set(resp.get_json()["error"]) == {"code", "message", "fields"}


def test_garbage_bearer_token_is_401(client):
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401


def test_openapi_document_describes_the_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/api/v1/auth/tokens"]
    assert "delete" in doc["paths"]["/api/v1/auth/tokens/current"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_api_route_is_in_the_openapi_document(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} is not documented"
