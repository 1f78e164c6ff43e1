"""Seed the fault tests' private database (run in a subprocess with fault_settings): a company, its
manager with a signed-in session, a room with two participants. Prints one JSON line."""

# pyright: reportMissingImports=false

from __future__ import annotations

import json
import time
import uuid


def main() -> None:
    import django

    django.setup()
    from accounts.models import Role, SecondFactor, User, UserSession
    from accounts.sessions import AUTH_AT_KEY, BACKEND, SECOND_FACTOR_KEY, SEEN_AT_KEY
    from calls.models import Participant, Room
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from tenancy.db import tenant_context
    from tenancy.models import Company

    company_id = uuid.uuid4()
    with tenant_context(company_id):
        company = Company.objects.create(pk=company_id, name="Fault company")
        manager = User.objects.create_user(
            f"manager-{company_id.hex[:8]}@kakoi.fault", None, company=company, role=Role.MANAGER, second_factor=SecondFactor.EMAIL
        )
        room = Room.objects.create(company=company, name="Fault room", created_by=manager)
        for n in range(2):
            Participant.objects.create(company=company, room=room, user=manager, channel_name=f"specific.x!{n}", seen_at=timezone.now())
    session = SessionStore()
    session[SESSION_KEY] = str(manager.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = manager.get_session_auth_hash()
    session[AUTH_AT_KEY] = session[SEEN_AT_KEY] = int(time.time())
    session[SECOND_FACTOR_KEY] = True  # a manager's session passed the second factor (as complete_login records it)
    session.create()
    with tenant_context(company_id):
        UserSession.objects.create(company=company, user=manager, session_key=session.session_key)
    print(json.dumps({"session": session.session_key, "room": str(room.pk), "company": str(company_id)}))


if __name__ == "__main__":
    main()
