def test_home_and_login_render(client):
    assert client.get("/").status_code == 200
    page = client.get("/login")
    assert page.status_code == 200
    assert b'name="csrf_token"' in page.data
