"""Create or drop PostgreSQL databases for a CI run: `pgdb.py create NAME` or `pgdb.py drop NAME...`."""

import os
import sys

import psycopg

action, names = sys.argv[1], sys.argv[2:]
params = {
    "host": os.environ.get("PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("PG_PORT", "5432")),
    "user": os.environ.get("PG_USER", "postgres"),
}
with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
    for name in names:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
