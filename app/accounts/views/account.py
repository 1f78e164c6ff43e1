"""The signed-in user's own account: password, email, second factor, deletion."""

from __future__ import annotations

from datetime import timedelta

from core.clientip import client_ip
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from tenancy.models import Company

from accounts import notices, otp, preferences, throttle, tokens
from accounts.deletion import LastManagerError, delete_account
from accounts.forms import CurrentPasswordForm, DeleteAccountForm, EmailChangeForm, PasswordChangeForm, PreferencesForm, TotpEnableForm
from accounts.models import SecondFactor, UsedToken, User
from accounts.sessions import end_user_sessions, track_rotated_key
from accounts.views.common import current_user, tenant_of

CONTROLS: dict[str, str] = {
    "PWD-1": "password change: current password required, validators applied, other sessions ended, notice sent",
    "CSRF-3": "password, second-factor and email changes and self-deletion send notices",
    "CJ-3": "every change here needs the typed current password",
    "CSRF-1": "all changes are POST; GET only renders forms",
    "USR-2": "self-service physical deletion",
}

FORM_METHODS = ["GET", "HEAD", "POST"]
TOTP_SETUP_KEY = "_kakoi_totp_setup"


def _post(request: HttpRequest) -> dict[str, str] | None:
    return request.POST if request.method == "POST" else None  # type: ignore[return-value]


def _home(request: HttpRequest, form: PreferencesForm, status: int = 200) -> HttpResponse:
    user = current_user(request)
    company = Company.objects.filter(pk=tenant_of(request)).first()
    context = {"account": user, "company": company, "preferences_form": form}
    return render(request, "accounts/home.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def home_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    return _home(request, PreferencesForm(initial={"language": user.language, "time_zone": user.time_zone}))


@require_POST
def preferences_view(request: HttpRequest) -> HttpResponse:
    """The language switch (and the time zone) of the account page: saved on the user, effective at once."""
    user = current_user(request)
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _home(request, form, status=400)
    user.language, user.time_zone = form.cleaned_data["language"], form.cleaned_data["time_zone"]
    user.save(update_fields=["language", "time_zone"])
    language, _zone = preferences.for_request(request)
    translation.activate(language)  # the confirmation is already in the new language
    messages.success(request, _("Your language and time zone were saved."))
    return redirect("accounts:home")


@sensitive_post_parameters("password", "new_password1", "new_password2")
@require_http_methods(FORM_METHODS)
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = PasswordChangeForm(user, _post(request), request=request)
    if request.method == "POST" and form.is_valid():
        user.set_password(form.cleaned_data["new_password1"])
        user.save(update_fields=["password"])
        old_key = request.session.session_key
        update_session_auth_hash(request, user)  # keeps this session, with a new key
        track_rotated_key(user, old_key, request.session.session_key)
        ended = end_user_sessions(user, except_key=request.session.session_key)
        notices.password_changed(preferences.recipient(user), client_ip(request))
        messages.success(
            request,
            ngettext(
                "Your password was changed. %(count)d other session was signed out.",
                "Your password was changed. %(count)d other sessions were signed out.",
                ended,
            )
            % {"count": ended},
        )
        return redirect("accounts:home")
    return render(request, "accounts/password_change.html", {"form": form})


@sensitive_post_parameters("password")
@require_http_methods(FORM_METHODS)
def email_change_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = EmailChangeForm(user, _post(request), request=request)
    if request.method == "POST" and form.is_valid():
        if throttle.hit_over_limit("email-change-user", str(user.pk)):
            raise throttle.ThrottledError("email-change-user", int(settings.KAKOI_THROTTLE["email-change-user"][1]))
        new_email = form.cleaned_data["new_email"]
        if User.objects.filter(email=new_email).exists():
            # The same answer as for a free address (no enumeration), and nothing is sent to the
            # address that has an account (no spam relay); the user's own address is told.
            notices.email_change_requested_for_taken_address(preferences.recipient(user), new_email)
        else:
            token = tokens.make_email_change_token(user.pk, user.email, new_email)
            url = request.build_absolute_uri(reverse("accounts:email-confirm", args=[token]))
            notices.email_change_requested(preferences.recipient(user), preferences.recipient(user, new_email), url)
        messages.info(request, _("If the address can be used, we sent a confirmation link to it."))
        return redirect("accounts:home")
    return render(request, "accounts/email_change.html", {"form": form})


@require_http_methods(FORM_METHODS)
def email_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    user = current_user(request)
    try:
        data = tokens.read_email_change_token(token)
    except tokens.InvalidTokenError:
        raise Http404 from None
    # Single use: a link whose use was recorded is dead, even once the address is changed back.
    if data.user_id != user.pk or data.old_email != user.email or UsedToken.objects.filter(pk=data.use_key).exists():
        raise Http404
    error = ""
    if request.method == "POST":
        old = user.email
        try:
            with transaction.atomic():
                # the primary key makes a concurrent second use fail here (it waits for the first, then conflicts)
                UsedToken.objects.create(key=data.use_key)
                if User.objects.filter(email=data.new_email).exists():
                    raise ValidationError("taken")
                user.email = data.new_email
                user.save(update_fields=["email"])
        except IntegrityError:
            raise Http404 from None
        except ValidationError:
            user.email = old
            error = _("That address cannot be used.")
        else:
            ttl = int(settings.KAKOI_EMAIL_CHANGE_TTL_SECONDS)
            UsedToken.objects.filter(used_at__lt=timezone.now() - timedelta(seconds=2 * ttl)).delete()
            notices.email_changed(preferences.recipient(user, old), preferences.recipient(user))
            messages.success(request, _("Your email address was changed."))
            return redirect("accounts:home")
    return render(request, "accounts/email_confirm.html", {"new_email": data.new_email, "error": error})


@require_http_methods(["GET", "HEAD"])
def security_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    return render(request, "accounts/security.html", {"account": user, "form": CurrentPasswordForm(user, request=request)})


@sensitive_post_parameters("password")
@require_POST
def security_email_view(request: HttpRequest) -> HttpResponse:
    """Use the emailed code as second factor (replaces TOTP if it was set up)."""
    user = current_user(request)
    form = CurrentPasswordForm(user, request.POST, request=request)
    if not form.is_valid():
        return render(request, "accounts/security.html", {"account": user, "form": form}, status=400)
    user.set_second_factor(SecondFactor.EMAIL)
    notices.second_factor_changed(preferences.recipient(user), SecondFactor.EMAIL, client_ip(request))
    messages.success(request, _("Sign-in now asks for an emailed code."))
    return redirect("accounts:security")


@sensitive_post_parameters("password")
@require_POST
def security_disable_view(request: HttpRequest) -> HttpResponse:
    """Members may turn the second factor off; managers may not (AUTHZ-1)."""
    user = current_user(request)
    form = CurrentPasswordForm(user, request.POST, request=request)
    if user.is_manager:
        form.add_error(None, _("Managers must use a second factor."))
    if not form.is_valid():
        return render(request, "accounts/security.html", {"account": user, "form": form}, status=400)
    user.set_second_factor(SecondFactor.NONE)
    notices.second_factor_changed(preferences.recipient(user), SecondFactor.NONE, client_ip(request))
    messages.success(request, _("The second sign-in step is off."))
    return redirect("accounts:security")


@sensitive_post_parameters("password", "code")
@require_http_methods(FORM_METHODS)
def totp_setup_view(request: HttpRequest) -> HttpResponse:
    """POST action=start makes a secret (kept in the session until confirmed); action=confirm enables it."""
    user = current_user(request)
    secret = request.session.get(TOTP_SETUP_KEY)
    form = TotpEnableForm(user, request=request)
    if request.method == "POST" and request.POST.get("action") == "start":
        secret = otp.new_totp_secret()
        request.session[TOTP_SETUP_KEY] = secret
    elif request.method == "POST":
        form = TotpEnableForm(user, request.POST, request=request)
        if not isinstance(secret, str):
            return redirect("accounts:security")
        if form.is_valid():
            step = otp.totp_step_matching(secret, form.cleaned_data["code"], None)
            if step is None:
                form.add_error("code", _("The code does not match."))
            else:
                user.set_second_factor(SecondFactor.TOTP, totp_secret=secret, totp_step=step)
                del request.session[TOTP_SETUP_KEY]
                notices.second_factor_changed(preferences.recipient(user), SecondFactor.TOTP, client_ip(request))
                messages.success(request, _("Sign-in now asks for a code from your authenticator app."))
                return redirect("accounts:security")
    if not isinstance(secret, str):
        return redirect("accounts:security")
    context = {"form": form, "secret": secret, "uri": otp.provisioning_uri(secret, user.email)}
    return render(request, "accounts/totp_setup.html", context)


@sensitive_post_parameters("password")
@require_http_methods(FORM_METHODS)
def delete_account_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = DeleteAccountForm(user, _post(request), request=request)
    if request.method == "POST" and form.is_valid():
        try:
            delete_account(user, actor=user)
        except LastManagerError:
            form.add_error(None, _("You are the only manager: make another member a manager first."))
        else:
            logout(request)
            return render(request, "accounts/deleted.html")
    return render(request, "accounts/delete_account.html", {"form": form})
