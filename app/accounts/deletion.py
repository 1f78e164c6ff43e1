"""Physical deletion of an account: rows, sessions, S3 objects, and a notice.

Runs inside the request's transaction (tenant set). Rows are deleted with
DELETE (cascading to the user's tenant-owned rows); the S3 purge and the notice
are queued for after COMMIT, so a rollback loses nothing. When the last user of
a company goes, the company and every tenant row go with it.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from storage import s3
from storage.purge import schedule_purge
from tenancy.models import Company

from accounts import notices, preferences
from accounts.models import Role, User
from accounts.roles import LastManagerError, current_role, drop_manager_invitations, ensure_a_manager_remains, lock_company, require_manager
from accounts.sessions import end_user_sessions

CONTROLS: dict[str, str] = {
    "USR-2": "self-service and manager deletion delete the rows physically, end every session, purge the user's S3 prefix after commit and send a notice",
    "CSRF-3": "a deletion sends a notice to the deleted account's registered address",
}

logger = logging.getLogger(__name__)


__all__ = ["LastManagerError", "delete_account"]


def delete_account(user: User, *, actor: User) -> None:
    """Delete `user` (who is `actor` for self-service, or a member deleted by their manager).

    Under the company lock (accounts.roles), with the roles re-read: the last manager cannot
    go while others remain, and a manager deletes members only, while still a manager.
    """
    lock_company(user.company_id)
    role = current_role(user.pk, user.company_id)
    if role is None:
        raise Http404
    if actor.pk != user.pk:
        require_manager(actor)
        if role != Role.MEMBER:
            raise PermissionDenied
    if role == Role.MANAGER:
        ensure_a_manager_remains(user.company_id, losing=user.pk)
        drop_manager_invitations(user.pk, user.company_id)
    company_id, user_id = user.company_id, user.pk
    to = preferences.recipient(user)  # before the rows (and maybe the company's defaults) are gone
    end_user_sessions(user)
    user.delete()
    if User.objects.filter(company_id=company_id).exists():
        schedule_purge(s3.user_prefix(company_id, user_id))
    else:
        Company.objects.filter(pk=company_id).delete()
        schedule_purge(s3.tenant_prefix(company_id))
    notices.account_deleted(to, None if actor.pk == user_id else actor.email)
    logger.info("account %s of company %s deleted by %s", user_id, company_id, "itself" if actor.pk == user_id else actor.pk)
