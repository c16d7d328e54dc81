import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    return api_client.get("/schema", HTTP_ACCEPT="application/json").json()


def test_schema_describes_the_token_schemes_beside_jwt(schema):
    schemes = schema["components"]["securitySchemes"]

    assert schemes["personalAccessToken"]["scheme"] == "bearer"
    assert schemes["personalAccessTokenBasic"]["scheme"] == "basic"
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"


@pytest.mark.parametrize(
    ("path", "method", "offers_tokens"),
    [
        ("/users/me/", "get", True),
        ("/experiments/", "post", True),
        ("/auth/tokens/", "get", True),
        ("/auth/tokens/{id}/", "delete", True),
        ("/auth/tokens/", "post", False),
        ("/auth/password/", "post", False),
        ("/users/{id}/", "delete", False),
    ],
)
def test_schema_offers_tokens_only_where_they_are_accepted(schema, path, method, offers_tokens):
    names = {name for requirement in schema["paths"][path][method]["security"] for name in requirement}

    assert {"bearerAuth", "passwordFlow"} <= names
    assert ({"personalAccessToken", "personalAccessTokenBasic"} <= names) is offers_tokens


def test_schema_documents_the_token_routes_and_their_answers(schema):
    create = schema["paths"]["/auth/tokens/"]["post"]["responses"]

    assert {"201", "400", "401", "403", "429"} <= set(create)
    assert set(schema["paths"]["/auth/tokens/{id}/"]) == {"get", "delete"}
    assert "token" in schema["components"]["schemas"]["PersonalAccessTokenCreated"]["required"]
    assert "token" not in schema["components"]["schemas"]["PersonalAccessToken"]["properties"]
