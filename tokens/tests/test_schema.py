import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    return api_client.get("/schema", HTTP_ACCEPT="application/json").json()


def test_schema_describes_personal_access_tokens_in_the_one_bearer_scheme(schema):
    schemes = schema["components"]["securitySchemes"]

    assert sorted(schemes) == ["login", "token"]
    assert schemes["token"]["scheme"] == "bearer"
    assert "personal access token (`reg_pat_...`)" in schemes["token"]["description"]
    assert "HTTP Basic" in schemes["token"]["description"]


@pytest.mark.parametrize(
    ("path", "method"),
    [("/users/me/", "get"), ("/experiments/", "post"), ("/auth/tokens/", "post"), ("/users/{id}/", "delete")],
)
def test_schema_offers_the_login_and_a_bearer_token_on_authenticated_routes(schema, path, method):
    assert schema["paths"][path][method]["security"] == [{"login": []}, {"token": []}]


def test_schema_documents_the_token_routes_and_their_answers(schema):
    create = schema["paths"]["/auth/tokens/"]["post"]["responses"]

    assert {"201", "400", "401", "403", "429"} <= set(create)
    assert set(schema["paths"]["/auth/tokens/{id}/"]) == {"get", "delete"}
    assert "token" in schema["components"]["schemas"]["PersonalAccessTokenCreated"]["required"]
    assert "token" not in schema["components"]["schemas"]["PersonalAccessToken"]["properties"]
