from __future__ import annotations

from huey.contrib.djhuey import db_task

from krov.accounts import services
from krov.accounts.models import User


@db_task(retries=2, retry_delay=30)
def delete_sessions_of(user_id: int) -> None:
    """After panic: remove the stored sessions (they no longer work: the stamp changed)."""
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        services.delete_sessions_of(user)
