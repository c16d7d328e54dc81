"""The MLflow tracking API (`/api/2.0/mlflow/...`): MLflow's own client logs to Registry as its tracking server.

An MLflow experiment is a project and an MLflow run an experiment; see docs/mlflow.md.
"""
