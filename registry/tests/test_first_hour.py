"""What a newcomer meets first: the admin's address, the icon, the browsable API's pages, the documented operations."""

import json
import re

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework import status

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_without_the_slash_redirects_to_the_admin(client):
    response = client.get("/admin")
    assert (response.status_code, response["Location"]) == (status.HTTP_301_MOVED_PERMANENTLY, "/admin/")


def test_the_site_has_an_icon(live_server):
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}/favicon.ico") as response:
        body = response.read()
    assert response.status == 200
    assert body[:4] == b"\x00\x00\x01\x00"  # An ICO file.


def test_the_browsable_api_carries_the_service_name_and_offers_a_login(client):
    page = client.get(reverse("experiment-list"), HTTP_ACCEPT="text/html").content.decode()
    assert "<title>Experiment List – Registry</title>" in page
    assert "Django REST framework" not in page
    assert f"<a href='{reverse('rest_framework:login')}?next={reverse('experiment-list')}'>Log in</a>" in page


def test_the_browsable_api_login_logs_in_with_a_session(client):
    UserFactory(username="dana")
    response = client.post(reverse("rest_framework:login"), {"username": "dana", "password": PASSWORD})
    assert response.status_code == status.HTTP_302_FOUND
    assert client.get(reverse("experiment-list"), HTTP_ACCEPT="application/json").status_code == 200


def test_the_browsable_api_login_is_throttled_like_every_password_door(client, settings):
    settings.AUTH_THROTTLE_RATE = "2/min"
    UserFactory(username="dana")
    for _ in range(2):
        client.post(reverse("rest_framework:login"), {"username": "dana", "password": "wrong"})
    response = client.post(reverse("rest_framework:login"), {"username": "dana", "password": PASSWORD})
    assert response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0


def test_the_experiment_form_starts_from_a_valid_body(client_for, user):
    client = client_for(user)
    page = client.get(reverse("experiment-list"), HTTP_ACCEPT="text/html").content.decode()
    start = page.index('name="_content"')
    form = page[page.index(">", start) + 1 : page.index("</textarea>", start)]
    body = json.loads(form.replace("&quot;", '"'))
    assert {key: body[key] for key in ["status", "parameters", "results", "tags"]} == {
        "status": "draft",
        "parameters": {},
        "results": {},
        "tags": [],
    }
    response = client.post(reverse("experiment-list"), {**body, "name": "from the form"}, format="json")
    assert response.status_code == status.HTTP_201_CREATED, response.content


def test_each_operation_is_documented_once_with_its_alias_named(api_client):
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    assert not {"/healthcheck/", "/auth/register/", "/login/", "/me/"} & set(schema["paths"])
    assert "Also at `/healthcheck`." in schema["paths"]["/health/"]["get"]["description"]
    assert "Also at `POST /auth/register`." in schema["paths"]["/users/"]["post"]["description"]
    assert "Also at `POST /login`." in schema["paths"]["/auth/token/"]["post"]["description"]
    assert "Also at `GET /me`." in schema["paths"]["/users/me/"]["get"]["description"]


def test_the_root_documents_its_links(api_client):
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    links = schema["components"]["schemas"]["RootLinks"]
    assert sorted(links["properties"]) == ["docs", "health", "redoc", "schema"]
    assert sorted(api_client.get("/").json()["links"]) == ["docs", "health", "redoc", "schema"]


def _route_patterns(patterns=None, prefix: str = ""):
    """Every route of the URL configuration as a path with `{}` for each parameter; an included app (the admin) as its
    prefix alone."""
    from django.urls import URLPattern, URLResolver, get_resolver

    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern).lstrip("^").replace("\\\\", "")
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield _normalized(text)
            else:
                yield from _route_patterns(pattern.url_patterns, text.rstrip("$"))
        elif isinstance(pattern, URLPattern) and "format" not in text:
            yield _normalized(text)


def _normalized(path: str) -> str:
    path = re.sub(r"\(\?P<[^>]+>[^)]*\)|<[^>]+>|\{[^}]+\}", "{}", path)
    path = path.replace("/?", "/").replace("$", "").split("?")[0]
    return "/" + path.strip("/") if path.strip("/") else "/"


def test_every_route_is_named_in_the_docs():
    docs = [settings.BASE_DIR / "README.md", *sorted((settings.BASE_DIR / "docs").glob("*.md"))]
    text = "\n".join(path.read_text() for path in docs)
    documented = {_normalized(match) for match in re.findall(r"(?<![\w.])(/[\w{}/.-]*)", text)}
    missing = sorted(set(_route_patterns()) - documented)
    assert missing == []


def test_the_browsable_api_login_page_carries_the_service_name(client):
    page = client.get(reverse("rest_framework:login")).content.decode()
    assert "<title>Log in – Registry</title>" in page
    assert "Django REST framework" not in page


@pytest.mark.parametrize("route", ["experiment-list", "project-list"])
def test_every_filter_of_the_browsable_api_has_a_name(client, route):
    client.force_login(UserFactory())
    page = client.get(reverse(route), HTTP_ACCEPT="text/html").content.decode()
    assert "Filters" in page
    assert "[invalid name]" not in page
    assert 'for="id_search"' in page and "Search" in page


def test_redoc_fetches_nothing_from_elsewhere(client):
    response = client.get(reverse("redoc"))
    page = response.content.decode()
    assert response.status_code == status.HTTP_200_OK
    assert "fonts.googleapis.com" not in page and "fonts.gstatic.com" not in page
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', page) == []
    # ReDoc's bundle loads an attribution logo from its CDN; the page's policy refuses any image from elsewhere.
    assert "img-src 'self' data:" in response["Content-Security-Policy"]


def _schema(client) -> dict:
    return client.get(reverse("schema"), {"format": "json"}).json()


def _json_bodies(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield f"{method} {path}", content["application/json"]


def test_every_json_request_body_has_an_example_that_fits_its_schema(client):
    # Swagger UI's "Try it out" starts from the example: a made-up `"name": "string"` with `additionalProp1` is no help.
    schema = _schema(client)
    components = schema["components"]["schemas"]
    bodies = dict(_json_bodies(schema))
    assert len(bodies) >= 25
    for operation, body in bodies.items():
        (example,) = [entry["value"] for entry in body.get("examples", {}).values()] or [None]
        assert example is not None, f"{operation} has no example"
        shape = body["schema"]
        items = example if shape.get("type") == "array" else [example]
        reference = shape["items"]["$ref"] if shape.get("type") == "array" else shape["$ref"]
        component = components[reference.rsplit("/", 1)[1]]
        for item in items:
            assert set(item) <= set(component["properties"]), operation
            assert set(component.get("required", [])) <= set(item), operation


def test_the_examples_of_registering_making_a_project_and_a_token_are_accepted(client, api_client):
    examples = {
        operation: next(iter(body["examples"].values()))["value"] for operation, body in _json_bodies(_schema(client))
    }
    assert api_client.post("/users/", examples["post /users/"], format="json").status_code == status.HTTP_201_CREATED
    login = api_client.post("/auth/token/", examples["post /auth/token/"], format="json")
    assert login.status_code == status.HTTP_200_OK
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    project = api_client.post("/projects/", examples["post /projects/"], format="json")
    assert project.status_code == status.HTTP_201_CREATED, project.content
    token = api_client.post("/auth/tokens/", examples["post /auth/tokens/"], format="json")
    assert token.status_code == status.HTTP_201_CREATED, token.content
