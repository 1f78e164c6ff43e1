"""Role changes and the invariant "a company with users has at least one manager", under a lock.

Two managers demoting (or deleting) each other at the same moment would each see the other
still a manager and both go ahead. Every change that can remove a manager therefore runs
after `lock_company()`, a SELECT ... FOR UPDATE on the company row, inside the request's
transaction: such changes of one company run one after the other, and each re-reads the
roles (the actor's included) after taking the lock, so it sees what the previous one committed.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404
from tenancy.models import Company

from accounts.models import Invitation, Role, User

CONTROLS: dict[str, str] = {
    "AUTHZ-1": "'at least one manager' is enforced in the transaction under a row lock on the company: concurrent demotions "
    "and deletions of managers are serialised and re-checked",
    "AUTHZ-2": "the acting manager's role is re-read under the lock: a manager demoted a moment ago can no longer act",
}


class LastManagerError(Exception):
    """The change would leave a company that still has users without a manager."""


def lock_company(company_id: uuid.UUID) -> None:
    """Serialise role changes and deletions of one company until the transaction ends."""
    list(Company.objects.select_for_update().filter(pk=company_id).values_list("pk", flat=True))


def current_role(user_id: uuid.UUID, company_id: uuid.UUID) -> str | None:
    return User.objects.filter(pk=user_id, company_id=company_id).values_list("role", flat=True).first()


def require_manager(actor: User) -> None:
    """Under the lock: the actor is (still) a manager of their company."""
    if current_role(actor.pk, actor.company_id) != Role.MANAGER:
        raise PermissionDenied


def ensure_a_manager_remains(company_id: uuid.UUID, *, losing: uuid.UUID) -> None:
    """Under the lock: removing `losing` from the managers leaves a manager, or no user at all."""
    others = User.objects.filter(company_id=company_id).exclude(pk=losing)
    if others.exists() and not others.filter(role=Role.MANAGER).exists():
        raise LastManagerError


def drop_manager_invitations(user_id: uuid.UUID, company_id: uuid.UUID) -> int:
    """A user who stops being a manager stops vouching for the managers they invited."""
    deleted, _ = Invitation.objects.filter(
        company_id=company_id, invited_by_id=user_id, role=Role.MANAGER, accepted_at__isnull=True
    ).delete()
    return deleted


def change_role(actor: User, member_id: uuid.UUID, role: str) -> tuple[User, bool]:
    """Set a colleague's role; returns (the member, whether it changed). Raises PermissionDenied, Http404, LastManagerError."""
    lock_company(actor.company_id)
    require_manager(actor)
    member = User.objects.select_for_update().filter(pk=member_id, company_id=actor.company_id).first()
    if member is None:
        raise Http404
    if member.role == role:
        return member, False
    if member.role == Role.MANAGER:
        ensure_a_manager_remains(actor.company_id, losing=member.pk)
        drop_manager_invitations(member.pk, actor.company_id)
    member.role = role
    member.save(update_fields=["role"])
    return member, True
