"""A body sent chunked (Transfer-Encoding, no Content-Length) through a real gunicorn: answered 411, never read as an
empty body that a write would take for a change of nothing."""

import http.client
import json

from systemtests.harness import HOST, UNTHROTTLED, register_and_login, request

CHUNKED_REFUSAL = "Send the request body with a Content-Length header, not chunked."


def _chunked(port: int, method: str, path: str, body: dict, token: str) -> tuple[int, dict]:
    """One request whose body http.client sends in chunks, as it does for an iterable body without a length."""
    payload = json.dumps(body).encode()
    chunks = iter([payload[:5], payload[5:]])
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Connection": "close"}
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_chunked_body_is_411_through_gunicorn(start_server):
    server = start_server(None, AUTH_THROTTLE_RATE=UNTHROTTLED)
    token = register_and_login(server.port, "chunker")["access"]
    created = request(server.port, "POST", "/experiments/", data={"name": "before"}, token=token)
    assert created.status == 201, created.text
    path = f"/experiments/{created.json()['id']}/"

    assert _chunked(server.port, "PATCH", path, {"name": "after"}, token) == (411, {"detail": CHUNKED_REFUSAL})
    assert request(server.port, "GET", path, token=token).json()["name"] == "before"

    mlflow = _chunked(server.port, "POST", "/api/2.0/mlflow/experiments/create", {"name": "chunked"}, token)
    assert mlflow == (411, {"error_code": "INVALID_PARAMETER_VALUE", "message": CHUNKED_REFUSAL})
    assert request(server.port, "GET", "/projects/", token=token).json() == []
