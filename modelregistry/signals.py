"""What the model registry tells the code that listens to it (webhooks, to come), once the change has committed.

`alias_moved` is sent after the transaction that points an alias at another version, sets it for the first time or
removes it (by a client, or because its version was deleted) has committed, so that a receiver never acts on a change
that was rolled back. Its arguments: `sender` (RegisteredModel), `change` (the AliasChange: `registered_model`,
`alias`, `from_version` and `to_version`, each a number or None, `actor`, `changed_at`). A receiver that fails is
logged and does not undo the change (Signal.send_robust). Connect in an AppConfig.ready():

    from modelregistry.signals import alias_moved
    alias_moved.connect(deliver_webhooks, dispatch_uid="webhooks.alias_moved")
"""

from django.dispatch import Signal

alias_moved = Signal()
