"""The dotted path under which mails queued before the shared library moved to `common` name their task: a worker
that takes one of them finds it here (common.mail.TASK names the task from then on)."""

from common.mail import mail_send

__all__ = ["mail_send"]
