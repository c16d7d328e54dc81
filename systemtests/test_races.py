"""Races: many requests that want the same unique thing at the same moment, across four gunicorn workers on
PostgreSQL. Exactly one wins; the others get the answer a sequential loser would get, never a 5xx."""

from collections import Counter

from systemtests.harness import (
    PASSWORD,
    UNTHROTTLED,
    Response,
    attempt,
    concurrently,
    jwt_claims,
    register_and_login,
    report,
    request,
    server_errors,
    tally,
)

RACERS = 32


def _case_variant(text: str, index: int) -> str:
    """`text` with its letters upper-cased where `index` has a 1 bit: a different spelling for each index < 2**n."""
    letters = [position for position, char in enumerate(text) if char.isalpha()]
    assert index < 2 ** len(letters)
    chars = list(text)
    for bit, position in enumerate(letters):
        if index >> bit & 1:
            chars[position] = chars[position].upper()
    return "".join(chars)


def _field_errors(results: list, status: int) -> set[str]:
    """The field names in the bodies of the responses with `status`."""
    return {field for result in results if result.status == status for field in result.json()}


def _bodies(results: list, status: int) -> dict[str, int]:
    return dict(Counter(result.text for result in results if result.status == status))


def test_concurrent_registrations_of_one_username_create_exactly_one_user(postgres, start_server):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)

    def register(index: int):
        data = {"username": "racer", "email": f"racer{index}@example.com", "password": PASSWORD}
        return attempt(server.port, "POST", "/auth/register", data=data)

    results = concurrently(RACERS, register)

    statuses = tally(results)
    rows = postgres.fetch(server.database_name, "SELECT email FROM accounts_user WHERE lower(username) = 'racer'")
    report(
        "same username, 32 at once",
        statuses=dict(statuses),
        bodies_400=_bodies(results, 400),
        users_in_database=len(rows),
    )
    assert not server_errors(results)
    assert statuses == {201: 1, 400: RACERS - 1}
    assert _field_errors(results, 400) == {"username"}
    winner = next(result for result in results if result.status == 201)
    assert rows == [(winner.json()["email"],)]


def test_concurrent_registrations_of_one_email_in_any_case_create_exactly_one_user(postgres, start_server):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    emails = [_case_variant("same.mail@example.com", index) for index in range(RACERS)]
    assert len(set(emails)) == RACERS

    def register(index: int):
        data = {"username": f"mailer{index}", "email": emails[index], "password": PASSWORD}
        return attempt(server.port, "POST", "/auth/register", data=data)

    results = concurrently(RACERS, register)

    statuses = tally(results)
    rows = postgres.fetch(
        server.database_name, "SELECT username FROM accounts_user WHERE lower(email) = 'same.mail@example.com'"
    )
    report(
        "same e-mail in 32 spellings, at once",
        statuses=dict(statuses),
        bodies_400=_bodies(results, 400),
        users_in_database=len(rows),
    )
    assert not server_errors(results)
    assert statuses == {201: 1, 400: RACERS - 1}
    # A loser of the race gets the field error a sequential duplicate gets, not Django's "__all__" key.
    assert _field_errors(results, 400) == {"email"}
    winner = next(result for result in results if result.status == 201)
    assert rows == [(winner.json()["username"],)]


def test_concurrent_creations_of_one_project_name_create_exactly_one_project(postgres, start_server):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    token = register_and_login(server.port, "owner")["access"]

    results = concurrently(
        RACERS, lambda index: attempt(server.port, "POST", "/projects/", data={"name": "Race"}, token=token)
    )

    statuses = tally(results)
    rows = postgres.fetch(server.database_name, "SELECT id, name FROM projects_project")
    report(
        "same project name by one owner, 32 at once",
        statuses=dict(statuses),
        bodies_400=_bodies(results, 400),
        projects_in_database=len(rows),
    )
    assert not server_errors(results)
    assert statuses == {201: 1, 400: RACERS - 1}
    assert _field_errors(results, 400) == {"name"}
    winner = next(result for result in results if result.status == 201)
    assert rows == [(winner.json()["id"], "Race")]


def test_concurrent_refreshes_of_one_token_rotate_it_at_most_once(postgres, start_server):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    refresh = register_and_login(server.port, "refresher")["refresh"]
    jti = jwt_claims(refresh)["jti"]

    results = concurrently(
        10, lambda index: attempt(server.port, "POST", "/auth/token/refresh", data={"refresh": refresh})
    )

    statuses = tally(results)
    blacklisted = postgres.fetch(
        server.database_name,
        "SELECT count(*) FROM token_blacklist_blacklistedtoken b "
        "JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id WHERE o.jti = %s",
        (jti,),
    )[0][0]
    report("one refresh token, 10 refreshes at once", statuses=dict(statuses), blacklist_rows=blacklisted)
    assert not server_errors(results)
    assert statuses[200] <= 1
    assert statuses[200] + statuses[401] == 10, statuses
    assert blacklisted == 1
    # Spent, whoever won; and the winner's new refresh token works.
    assert request(server.port, "POST", "/auth/token/refresh", data={"refresh": refresh}).status == 401
    for result in results:
        if isinstance(result, Response) and result.status == 200:
            again = request(server.port, "POST", "/auth/token/refresh", data={"refresh": result.json()["refresh"]})
            assert again.status == 200, again.text


def test_concurrent_registrations_without_a_username_get_distinct_usernames(postgres, start_server):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)

    def register(index: int):
        data = {"email": f"sam@host{index}.example", "password": PASSWORD}
        return attempt(server.port, "POST", "/auth/register", data=data)

    results = concurrently(20, register)

    statuses = tally(results)
    names = [result.json()["username"] for result in results if isinstance(result, Response) and result.status == 201]
    rows = postgres.fetch(server.database_name, "SELECT username FROM accounts_user WHERE email LIKE %s", ("sam@%",))
    report("20 registrations with one local part", statuses=dict(statuses), usernames=sorted(names))
    assert statuses == Counter({201: 20})
    assert sorted(names) == sorted(row[0] for row in rows)
    assert len(set(names)) == 20
    assert "sam" in names
    assert all(name == "sam" or (name.startswith("sam-") and len(name) == 8) for name in names)
