"""Where artifacts are stored, as the environment says."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json
from registry import settings
artifacts = settings.STORAGES["artifacts"]
print(json.dumps([artifacts["BACKEND"], {k: str(v) for k, v in artifacts["OPTIONS"].items()}]))
"""


def _settings(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    environment.update(PYTHONPATH=str(settings.BASE_DIR), DATA_DIR=str(tmp_path / "data"), SECRET_KEY="x", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )


def test_by_default_artifacts_are_a_private_folder_in_the_data_folder(tmp_path):
    backend, options = json.loads(_settings(tmp_path, ARTIFACTS_URL="").stdout)

    assert backend == "django.core.files.storage.FileSystemStorage"
    assert options["location"] == str(tmp_path / "data" / "artifacts")
    assert oct((tmp_path / "data" / "artifacts").stat().st_mode & 0o777) == "0o700"


def test_an_s3_url_names_the_bucket_and_the_prefix(tmp_path):
    backend, options = json.loads(
        _settings(
            tmp_path,
            ARTIFACTS_URL="s3://team-bucket/registry/prod",
            ARTIFACTS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
            ARTIFACTS_S3_REGION="eu-west-1",
        ).stdout
    )

    assert backend == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["location"]) == ("team-bucket", "registry/prod")
    assert (options["endpoint_url"], options["region_name"], options["access_key"]) == (
        "http://127.0.0.1:9000",
        "eu-west-1",
        "None",
    )
    assert not (tmp_path / "data" / "artifacts").exists()


def test_an_artifacts_url_that_is_not_s3_is_refused_at_start(tmp_path):
    result = _settings(tmp_path, ARTIFACTS_URL="ftp://somewhere/x")
    assert result.returncode != 0
    assert "ARTIFACTS_URL must read s3://bucket or s3://bucket/prefix." in result.stderr
