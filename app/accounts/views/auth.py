"""Signing in (password, then a second factor), signing out, accepting an invitation.

These are the only public views (login_not_required), besides the health
endpoints answered by middleware.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from core.clientip import client_ip
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from tenancy.db import set_current_tenant, tenant_context
from tenancy.middleware import PENDING_LOGIN_SESSION_KEY

from accounts import notices, otp, preferences, throttle, tokens
from accounts.forms import AcceptInvitationForm, CodeForm, LoginForm
from accounts.models import Invitation, LoginChallenge, SecondFactor, User, normalize_email
from accounts.sessions import complete_login, end_current_session
from accounts.views.common import throttled

CONTROLS: dict[str, str] = {
    "PWD-2": "login is password then second factor; the emailed code is bound to the login attempt kept server-side in the session",
    "AUTHZ-1": "a manager cannot complete a login without the second factor",
    "SES-1": "the session key is cycled when the password is accepted and again when the login completes",
    "SES-4": "the public views are exactly: login, login-verify, login-resend, invitation-accept",
    "CSRF-1": "logout and resend accept POST only",
}

FORM_METHODS = ["GET", "HEAD", "POST"]


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """A local path to go to after sign-in, else the default.

    Only paths ("/..."): `redirect()` treats anything else as a view name or URL, and a
    `next` of "0" would otherwise raise NoReverseMatch (a 500) instead of being ignored.
    """
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    ):
        return candidate
    return str(settings.LOGIN_REDIRECT_URL)


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(PENDING_LOGIN_SESSION_KEY)
    return pending if isinstance(pending, dict) else None


def _clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_LOGIN_SESSION_KEY, None)


def _start_second_factor(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """The password was right: set the tenant, then finish the login or open a challenge."""
    set_current_tenant(user.company_id)
    request.tenant_id = user.company_id  # type: ignore[attr-defined]
    factor = user.effective_second_factor
    if factor == SecondFactor.NONE:
        complete_login(request, user, second_factor=False)
        return redirect(next_url)
    now = timezone.now()
    # One open challenge per user: a new login attempt kills the codes of earlier ones.
    LoginChallenge.objects.filter(user=user, consumed_at__isnull=True).update(consumed_at=now)
    challenge = LoginChallenge.objects.create(company_id=user.company_id, user=user, method=factor, expires_at=now + otp.code_ttl())
    if factor == SecondFactor.EMAIL:
        code = otp.issue_email_code(challenge)
        notices.login_code(preferences.recipient(user), code, otp.code_ttl().seconds // 60)
    request.session.cycle_key()
    request.session[PENDING_LOGIN_SESSION_KEY] = {
        "user": str(user.pk),
        "tenant": str(user.company_id),
        "challenge": str(challenge.pk),
        "started": int(time.time()),
        "next": next_url,
    }
    return redirect("accounts:login-verify")


def _count_account_failure(email: str) -> None:
    """Failures on one account from every client: a guess spread over many addresses refuses nobody (that would
    be a lock-out anyone could cause) but, at the limit, tells the owner once per window."""
    limit, _window = settings.KAKOI_THROTTLE["login-account-all"]
    if throttle.hit("login-account-all", email) == int(limit):
        user = User.objects.filter(email=email, is_active=True).first()
        if user is not None:
            with tenant_context(user.company_id):  # no tenant yet: the company's defaults are read under its own
                to = preferences.recipient(user)
            notices.login_failures(to, int(limit))


@login_not_required
@sensitive_post_parameters("password")
@require_http_methods(FORM_METHODS)
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        email = normalize_email(form.cleaned_data["email"])
        # Failures only, per client and per (account, client): raises ThrottledError (429) when over.
        attempt = throttle.attempt(("login-ip", throttle.client_bucket(ip)), ("login-account", throttle.account_client(email, ip)))
        user = authenticate(request, email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        if isinstance(user, User):
            attempt.succeeded()
            _clear_pending(request)
            return _start_second_factor(request, user, next_url)
        _count_account_failure(email)
        form.add_error(None, _("The email address or password is incorrect."))
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _open_challenge(request: HttpRequest) -> LoginChallenge | None:
    pending = _pending(request)
    if pending is None:
        return None
    try:
        challenge_id, user_id = uuid.UUID(str(pending["challenge"])), uuid.UUID(str(pending["user"]))
    except (KeyError, ValueError):
        return None
    challenge = LoginChallenge.objects.select_for_update().select_related("user").filter(pk=challenge_id, user_id=user_id).first()
    if challenge is None or not challenge.is_open or not challenge.user.is_active:
        return None
    return challenge


def _restart(request: HttpRequest, message: str) -> HttpResponse:
    _clear_pending(request)
    messages.error(request, message)
    return redirect("accounts:login")


@login_not_required
@sensitive_post_parameters("code")
@require_http_methods(FORM_METHODS)
def verify_view(request: HttpRequest) -> HttpResponse:
    challenge = _open_challenge(request)
    if challenge is None:
        return _restart(request, _("That sign-in has expired or was replaced. Please sign in again."))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        account = str(challenge.user_id)
        attempt = throttle.attempt(("otp-ip", throttle.client_bucket(client_ip(request))), ("otp-account", account))
        challenge.attempts += 1
        challenge.save(update_fields=["attempts"])
        code = form.cleaned_data["code"] if form.is_valid() else ""
        ok = otp.check_email_code(challenge, code) if challenge.method == SecondFactor.EMAIL else otp.check_totp(challenge.user, code)
        if ok:
            attempt.succeeded()
            challenge.consumed_at = timezone.now()
            challenge.save(update_fields=["consumed_at"])
            next_url = str((_pending(request) or {}).get("next") or settings.LOGIN_REDIRECT_URL)
            _clear_pending(request)
            complete_login(request, challenge.user, second_factor=True)
            return redirect(_safe_next(request, next_url))
        if challenge.attempts >= settings.KAKOI_EMAIL_OTP_MAX_ATTEMPTS:
            challenge.consumed_at = timezone.now()
            challenge.save(update_fields=["consumed_at"])
            return _restart(request, _("Too many wrong codes. Please sign in again."))
        form.add_error(None, _("The code is incorrect or has expired."))
    context = {"form": form, "method": challenge.method, "can_resend": otp.can_resend(challenge)}
    return render(request, "accounts/verify.html", context)


@login_not_required
@require_POST
def resend_view(request: HttpRequest) -> HttpResponse:
    challenge = _open_challenge(request)
    if challenge is None:
        return _restart(request, _("That sign-in has expired or was replaced. Please sign in again."))
    if throttle.hit_over_limit("otp-ip", throttle.client_bucket(client_ip(request))):
        return throttled(request)
    if not otp.can_resend(challenge):
        messages.error(request, _("A new code cannot be sent yet."))
        return redirect("accounts:login-verify")
    code = otp.issue_email_code(challenge)
    notices.login_code(preferences.recipient(challenge.user), code, otp.code_ttl().seconds // 60)
    messages.info(request, _("A new code was sent. Earlier codes no longer work."))
    return redirect("accounts:login-verify")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    end_current_session(request)
    return redirect("accounts:login")


@login_not_required
@sensitive_post_parameters("password1", "password2")
@require_http_methods(FORM_METHODS)
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        messages.error(request, _("Sign out before accepting an invitation."))
        return redirect(settings.LOGIN_REDIRECT_URL)
    try:
        data = tokens.read_invitation_token(token)
    except tokens.InvalidTokenError:
        raise Http404 from None
    # The signed token names the tenant: only now may its invitation rows be read.
    set_current_tenant(data.company_id)
    request.tenant_id = data.company_id  # type: ignore[attr-defined]
    invitation = Invitation.objects.select_for_update().filter(pk=data.invitation_id, company_id=data.company_id).first()
    if invitation is None or not invitation.is_usable or not constant_time_compare(invitation.nonce_hash, tokens.nonce_hash(data.nonce)):
        raise Http404
    # The page speaks the language the inviter chose for the invitee (the invitee can change it here).
    language = preferences.supported_language(invitation.language) or preferences.company_defaults(data.company_id)[0]
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
    form = AcceptInvitationForm(invitation.email, request.POST if request.method == "POST" else None, initial={"language": language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"] or language
        try:
            with transaction.atomic():
                # the form checked the address is free; a concurrent sign-up can still take it first
                User.objects.create_user(
                    invitation.email,
                    form.cleaned_data["password1"],
                    company=invitation.company,
                    role=invitation.role,
                    name=form.cleaned_data.get("name", ""),
                    language=language,
                )
        except (IntegrityError, ValidationError):
            form.add_error(None, _("This address already has a kakoi account. Sign in with it instead."))
        else:
            invitation.accepted_at = timezone.now()
            invitation.save(update_fields=["accepted_at"])
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
            messages.success(request, _("Your account is ready. Please sign in."))
            return redirect("accounts:login")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})
