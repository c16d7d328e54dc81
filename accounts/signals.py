"""What the account services tell the apps above them, which accounts may not import (docs/development.md)."""

from django.dispatch import Signal

# Sent inside the transaction that deletes an account, before the delete, with `user`: the experiments app locks the
# account's experiments, so that a batch of metrics being written finishes before their history goes.
user_deleting = Signal()
