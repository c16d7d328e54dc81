"""The auth throttle under concurrency: a burst of wrong-password logins spread over four gunicorn workers is counted
in the shared cache (the database cache by default, or Redis), so that at most the allowed few reach the password
check and the rest answer 429 with Retry-After. The account's owner, from a client that logged in before the burst
and kept its device cookie, still logs in on every worker; a client without the cookie is refused."""

import time

import pytest

from systemtests.harness import (
    PASSWORD,
    WORKERS,
    Response,
    attempt,
    concurrently,
    device_cookie,
    outcome,
    register,
    report,
    server_errors,
    tally,
)

LOGINS = 40
THREADS = 8
ALLOWED_PER_MINUTE = 10  # AUTH_THROTTLE_RATE's default, which these servers keep.
# At most ten of the burst may reach the password check; the owner's successful login before it is not counted.
MIN_THROTTLED = LOGINS - ALLOWED_PER_MINUTE


@pytest.mark.parametrize("cache", ["file", "redis"])
def test_burst_of_wrong_password_logins_is_throttled_across_workers(cache, postgres, start_server, request):
    env = {"CACHE_URL": request.getfixturevalue("redis_url")} if cache == "redis" else {}
    server = start_server(postgres, **env)
    register(server.port, "victim")
    right = {"username": "victim", "password": PASSWORD}
    wrong = {"username": "victim", "password": PASSWORD + "-wrong"}
    owners_login = attempt(server.port, "POST", "/auth/token", data=right)
    assert outcome(owners_login) == 200, owners_login
    owners_device = device_cookie(owners_login)

    def logins(thread: int) -> list[Response | str]:
        return [attempt(server.port, "POST", "/auth/token", data=wrong) for _ in range(LOGINS // THREADS)]

    started = time.monotonic()
    results = [result for batch in concurrently(THREADS, logins) for result in batch]
    elapsed = time.monotonic() - started
    # Enough logins to reach every worker: the cookie is checked with the secret key they share.
    owner_after = tally(
        [attempt(server.port, "POST", "/auth/token", data=right, cookie=owners_device) for _ in range(2 * WORKERS)]
    )
    stranger_after = outcome(attempt(server.port, "POST", "/auth/token", data=right))

    statuses = tally(results)
    throttled = [result for result in results if isinstance(result, Response) and result.status == 429]
    without_retry_after = [result for result in throttled if not result.headers.get("retry-after", "").isdigit()]
    report(
        f"{LOGINS} wrong-password logins from {THREADS} threads, {cache} cache",
        statuses=dict(statuses),
        seconds=round(elapsed, 2),
        reached_password_check=statuses[401],
        ideal=f"{ALLOWED_PER_MINUTE} x 401 and {LOGINS - ALLOWED_PER_MINUTE} x 429",
        retry_after=sorted({result.headers.get("retry-after") for result in throttled}),
        owner_with_device_cookie_after=dict(owner_after),
        right_password_without_cookie_after=stranger_after,
    )
    assert not server_errors(results)
    assert set(statuses) <= {401, 429}, statuses
    throttled_count = len(throttled)
    assert throttled_count >= MIN_THROTTLED, f"only {throttled_count} of {LOGINS} throttled: {dict(statuses)}"
    assert not without_retry_after
    assert owner_after == {200: 2 * WORKERS}
    assert stranger_after == 429
