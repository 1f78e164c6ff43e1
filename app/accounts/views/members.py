"""A manager's view of the company: members, invitations, roles, deletion of members.

Every lookup goes through the request's tenant (tenant_users / RLS on
Invitation): an ID from another company and an ID that does not exist give
the same 404.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from tenancy.models import Company

from accounts import notices, preferences, throttle, tokens
from accounts.deletion import delete_account
from accounts.forms import CompanyDefaultsForm, DeleteMemberForm, InviteForm, RoleForm
from accounts.models import Invitation, Role
from accounts.roles import LastManagerError, change_role
from accounts.views.common import current_user, get_tenant_user_or_404, manager_required, tenant_of, tenant_users

CONTROLS: dict[str, str] = {
    "AUTHZ-2": "manager views look users up with tenant_users() and invitations under RLS; other tenants' IDs answer 404",
    "USR-1": "managers invite an address to their company with a signed, expiring, single-use link",
    "USR-2": "a manager deletes a member physically (typed confirmation)",
    "CSRF-3": "role changes and deletions send notices",
    "CJ-3": "role changes need the manager's password; deleting a member needs their address typed",
}


def _members_page(
    request: HttpRequest, invite_form: InviteForm, status: int = 200, defaults_form: CompanyDefaultsForm | None = None
) -> HttpResponse:
    if defaults_form is None:
        company = get_object_or_404(Company, pk=tenant_of(request))
        defaults_form = CompanyDefaultsForm(
            initial={"default_language": company.default_language, "default_time_zone": company.default_time_zone}
        )
    context = {
        "defaults_form": defaults_form,
        "members": tenant_users(request).order_by("email"),
        "invitations": Invitation.objects.filter(company_id=tenant_of(request), accepted_at__isnull=True).order_by("created_at"),
        "invite_form": invite_form,
        "now": timezone.now(),
    }
    return render(request, "accounts/members.html", context, status=status)


@manager_required
@require_http_methods(["GET", "HEAD"])
def members_view(request: HttpRequest) -> HttpResponse:
    company = get_object_or_404(Company, pk=tenant_of(request))
    return _members_page(request, InviteForm(initial={"language": company.default_language}))


@manager_required
@require_POST
def invite_view(request: HttpRequest) -> HttpResponse:
    manager = current_user(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, form, status=400)
    if throttle.hit_over_limit("invite-user", str(manager.pk)):
        raise throttle.ThrottledError("invite-user", int(settings.KAKOI_THROTTLE["invite-user"][1]))
    company = get_object_or_404(Company, pk=tenant_of(request))
    # The same answer whether or not the address already has an account (no enumeration);
    # accepting then refuses an address with an account (USR-1).
    email = form.cleaned_data["email"]
    nonce = tokens.new_nonce()
    ttl = int(settings.KAKOI_INVITATION_TTL_SECONDS)
    try:
        with transaction.atomic():
            # A new invitation to the same address replaces the pending one (its link stops working).
            Invitation.objects.filter(company_id=company.pk, email=email, accepted_at__isnull=True).delete()
            invitation = Invitation.objects.create(
                company=company,
                email=email,
                role=form.cleaned_data["role"],
                nonce_hash=tokens.nonce_hash(nonce),
                language=form.cleaned_data["language"] or company.default_language,
                invited_by=manager,
                expires_at=timezone.now() + timedelta(seconds=ttl),
            )
    except IntegrityError:
        form.add_error(None, _("That invitation could not be created; try again."))
        return _members_page(request, form, status=400)
    token = tokens.make_invitation_token(company.pk, invitation.pk, nonce)
    url = request.build_absolute_uri(reverse("accounts:invitation-accept", args=[token]))
    invitee = preferences.Recipient(
        email=email, language=invitation.language or company.default_language, time_zone=company.default_time_zone
    )
    notices.invitation(invitee, company.name, manager.email, url, ttl // 3600)
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
    return redirect("accounts:members")


@manager_required
@require_POST
def company_defaults_view(request: HttpRequest) -> HttpResponse:
    """The company's default language and time zone (members without their own, new invitations)."""
    form = CompanyDefaultsForm(request.POST)
    if not form.is_valid():
        return _members_page(request, InviteForm(), status=400, defaults_form=form)
    company = get_object_or_404(Company, pk=tenant_of(request))
    company.default_language, company.default_time_zone = form.cleaned_data["default_language"], form.cleaned_data["default_time_zone"]
    company.save(update_fields=["default_language", "default_time_zone"])
    messages.success(request, _("The company's default language and time zone were saved."))
    return redirect("accounts:members")


@manager_required
@require_POST
def invitation_revoke_view(request: HttpRequest, invitation_id: uuid.UUID) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, company_id=tenant_of(request), accepted_at__isnull=True)
    invitation.delete()
    messages.success(request, _("Invitation revoked."))
    return redirect("accounts:members")


@manager_required
@require_http_methods(["GET", "HEAD"])
def member_detail_view(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    member = get_tenant_user_or_404(request, user_id)
    form = RoleForm(current_user(request), initial={"role": member.role}, request=request)
    return render(request, "accounts/member_detail.html", {"member": member, "role_form": form})


@manager_required
@sensitive_post_parameters("password")
@require_POST
def member_role_view(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    manager = current_user(request)
    member = get_tenant_user_or_404(request, user_id)
    form = RoleForm(manager, request.POST, request=request)
    if member.pk == manager.pk:
        form.add_error(None, _("You cannot change your own role."))
    if not form.is_valid():
        return render(request, "accounts/member_detail.html", {"member": member, "role_form": form}, status=400)
    try:
        # under the company lock, roles re-read: concurrent demotions cannot leave no manager
        member, changed = change_role(manager, member.pk, form.cleaned_data["role"])
    except LastManagerError:
        form.add_error(None, _("The company needs at least one manager."))
        return render(request, "accounts/member_detail.html", {"member": member, "role_form": form}, status=409)
    if changed:
        notices.role_changed(preferences.recipient(member), member.role, manager.email)
        messages.success(request, _("The role of %(email)s is now %(role)s.") % {"email": member.email, "role": Role(member.role).label})
    return redirect("accounts:member-detail", user_id=member.pk)


@manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_delete_view(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    manager = current_user(request)
    member = get_tenant_user_or_404(request, user_id)
    form = DeleteMemberForm(member, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if member.pk == manager.pk:
            form.add_error(None, _("Delete your own account from your account page."))
        elif member.role != Role.MEMBER:
            form.add_error(None, _("Make this manager a member before deleting the account."))
        if form.is_valid():
            email = member.email
            delete_account(member, actor=manager)
            messages.success(request, _("The account of %(email)s was deleted.") % {"email": email})
            return redirect("accounts:members")
    return render(request, "accounts/member_delete.html", {"member": member, "form": form})
