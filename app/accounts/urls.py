from django.urls import path

from accounts.views import account, auth, members

app_name = "accounts"

urlpatterns = [
    path("", account.home_view, name="home"),
    path("login/", auth.login_view, name="login"),
    path("login/verify/", auth.verify_view, name="login-verify"),
    path("login/verify/resend/", auth.resend_view, name="login-resend"),
    path("logout/", auth.logout_view, name="logout"),
    path("invitations/accept/<str:token>/", auth.invitation_accept_view, name="invitation-accept"),
    path("account/preferences/", account.preferences_view, name="preferences"),
    path("account/password/", account.password_change_view, name="password-change"),
    path("account/email/", account.email_change_view, name="email-change"),
    path("account/email/confirm/<str:token>/", account.email_confirm_view, name="email-confirm"),
    path("account/security/", account.security_view, name="security"),
    path("account/security/email/", account.security_email_view, name="security-email"),
    path("account/security/disable/", account.security_disable_view, name="security-disable"),
    path("account/security/totp/", account.totp_setup_view, name="security-totp"),
    path("account/delete/", account.delete_account_view, name="delete-account"),
    path("members/", members.members_view, name="members"),
    path("members/invite/", members.invite_view, name="invite"),
    path("members/company/", members.company_defaults_view, name="company-defaults"),
    path("members/<uuid:user_id>/", members.member_detail_view, name="member-detail"),
    path("members/<uuid:user_id>/role/", members.member_role_view, name="member-role"),
    path("members/<uuid:user_id>/delete/", members.member_delete_view, name="member-delete"),
    path("invitations/<uuid:invitation_id>/revoke/", members.invitation_revoke_view, name="invitation-revoke"),
]
