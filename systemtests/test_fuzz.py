"""Schemathesis against the service's own OpenAPI schema, for every operation, authenticated as a real user."""

import os
import subprocess
import sys
from pathlib import Path

from systemtests.harness import UNTHROTTLED, env_seconds, register_and_login, report

# Operations whose schema-valid requests may still be refused, and why; every other operation must accept every request
# that fits the schema (the positive_data_acceptance check). docs/operations.md (Reliability) lists the same cases.
DEPENDS_ON_STORED_STATE = {
    # A name or an e-mail already taken; a project id the caller may not write to; the current status of an
    # experiment; an unknown user; a member above the caller or a membership outlasting the caller's own.
    "projects_update": "a project name the owner already uses",
    "projects_partial_update": "a project name the owner already uses",
    "users_update": "a username or e-mail already taken, or a new e-mail of one's own (POST /auth/email)",
    "users_partial_update": "a username or e-mail already taken, or a new e-mail of one's own (POST /auth/email)",
    "users_me_update": "a username or e-mail already taken, or a new e-mail of one's own (POST /auth/email)",
    "users_me_partial_update": "a username or e-mail already taken, or a new e-mail of one's own (POST /auth/email)",
    "experiments_create": "a project the caller may not write to",
    "experiments_update": "a project the caller may not write to, or a status move from the current status",
    "experiments_partial_update": "a project the caller may not write to, or a status move from the current status",
    "experiments_rerun_create": "an experiment that is not in a final status",
    "projects_members_partial_update": "the caller's own role and term",
    "projects_members_create": "an unknown user, one already a member or invited, or the caller's own role and term",
    "projects_transfer_create": "an unknown user, or one already invited to the project",
    "invitations_accept_create": "an invitation past its deadline, whose inviter may no longer grant it, or whose "
    "project's name the invitee already uses",
    "invitations_decline_create": "an invitation that is no longer pending",
    # Also refused: a password that Django's validators find too common or too like the user's own names (a list
    # and the other fields, beyond what a schema states), besides a username or e-mail already taken.
    "users_create": "a username or e-mail already taken, a common password, or no password (staff only)",
    # Also refused: an expiration date already past (it depends on today's date).
    "projects_create": "a project name the owner already uses, or an expiration date already past",
    "auth_tokens_create": "a token name the user already uses",
    "auth_password_reset_confirm_create": "a reset token that was mailed and not used yet",
    "auth_email_create": "the caller's current password, and an e-mail not already taken",
    "auth_email_confirm_create": "a confirmation token that was mailed and not used yet",
    # The registry: a name taken in the project, or one MLflow's rules refuse (`/`, `:`, `..`); a project the caller may
    # not create models in; a version that does not exist, or an alias MLflow reserves; archiving from a passive stage.
    "registered_models_create": "a project the caller may create models in, and a name it does not have yet",
    "registered_models_update": "a name the model's project does not have yet, within MLflow's name rules",
    "registered_models_partial_update": "a name the model's project does not have yet, within MLflow's name rules",
    "registered_models_aliases_create": "a version that exists, and an alias MLflow does not reserve",
    "model_versions_transition_create": "archive_existing_versions only into Staging or Production",
    # The path rule refuses more than a schema pattern can state (`..` and empty segments, names over 255 bytes).
    "experiments_artifacts_list": "a path the path rule refuses",
    "experiments_artifacts_retrieve": "a file that exists, at a path the path rule accepts",
    "experiments_artifacts_update": "a path the path rule accepts, with no folder in the way, a file within the limit",
    "experiments_artifacts_destroy": "a file that exists, at a path the path rule accepts",
}
CONFIG = f"""
[generation]
# The wire is UTF-8 JSON: no unpaired surrogates, and no NUL, which no text column stores.
codec = "utf-8"
allow-x00 = false

[checks.negative_data_rejection]
# 414: gunicorn refuses a request line over 4094 bytes before the service sees it.
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429"]

[[operations]]
include-operation-id = {sorted(DEPENDS_ON_STORED_STATE)!r}
checks.positive_data_acceptance.enabled = false
"""


def test_schemathesis_finds_no_failures(postgres, start_server, tmp_path):
    server = start_server(postgres, AUTH_THROTTLE_RATE=UNTHROTTLED)
    tokens = register_and_login(server.port, "fuzzer")
    examples = str(int(env_seconds("SYSTEM_TEST_FUZZ_EXAMPLES", 25)))
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    # Every check runs (none is named here, so that the per-operation settings of the configuration apply).
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"http://127.0.0.1:{server.port}/schema",
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
