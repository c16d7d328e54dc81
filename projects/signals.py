"""What the projects' services tell the apps above them, which projects may not import (docs/development.md)."""

from django.dispatch import Signal

# Sent inside the transaction that moves a project to another lifecycle stage (MLflow's soft delete and restore), with
# `project` and `stage`: the experiments app moves the project's experiments with it.
project_stage_changed = Signal()
