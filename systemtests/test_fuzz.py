"""Schemathesis against the service's own OpenAPI schema, for every operation, authenticated as a real user."""

import os
import subprocess
import sys
from pathlib import Path

from systemtests.harness import UNTHROTTLED, env_seconds, register_and_login, report


def test_schemathesis_finds_no_failures(postgres, start_server, tmp_path):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    tokens = register_and_login(server.port, "fuzzer")
    examples = str(int(env_seconds("SYSTEM_TEST_FUZZ_EXAMPLES", 25)))
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"http://127.0.0.1:{server.port}/schema",
        "--checks",
        "all",
        # Data that fits the schema is still refused for reasons no schema states (a name already taken, an unknown
        # user, a status move from the wrong status), so "schema-valid data must be accepted" cannot hold here.
        "--exclude-checks",
        "positive_data_acceptance",
        "--header",
        f"Authorization: Bearer {tokens['access']}",
        "--max-examples",
        examples,
        "--exclude-path",
        "/auth/password/",
        "--exclude-operation-id",
        "users_destroy",
        "--seed",
        os.environ.get("SYSTEM_TEST_FUZZ_SEED", "20261121"),
        "--report-dir",
        str(tmp_path),
    ]

    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)

    output = result.stdout + result.stderr
    summary = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    report("schemathesis", exit_code=result.returncode, summary="\n" + summary)
    assert result.returncode == 0, output[-20000:]
