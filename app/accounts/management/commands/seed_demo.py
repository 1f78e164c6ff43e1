"""`manage.py seed_demo`: a demo company with a manager and a member, for local runs.

Idempotent: an existing demo account gets a new random password. Runs as the web
role, inside the demo company's tenant context (RLS applies as for a request).
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from storage import s3
from tenancy.db import tenant_context
from tenancy.models import Company

from accounts.models import Role, SecondFactor, User

# A fixed ID, so re-running finds the same company (its row is only visible inside its own tenant).
DEMO_COMPANY_ID = uuid.UUID("00000000-0000-4000-8000-00000000de40")
DEMO_ACCOUNTS = (("manager@demo.example", Role.MANAGER, "Demo Manager"), ("member@demo.example", Role.MEMBER, "Demo Member"))


class Command(BaseCommand):
    help = "Create (or reset) a demo company with a manager and a member and print their sign-in details."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--create-bucket", action="store_true", help="create the media bucket (moto server) if missing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["create_bucket"]:
            self._create_bucket()
        lines = []
        with transaction.atomic(), tenant_context(DEMO_COMPANY_ID):
            company = Company.objects.filter(pk=DEMO_COMPANY_ID).first() or Company.objects.create(pk=DEMO_COMPANY_ID, name="Demo Company")
            for email, role, name in DEMO_ACCOUNTS:
                password = secrets.token_urlsafe(12)
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(email, password, company=company, role=role, name=name)
                else:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                if role == Role.MEMBER and user.second_factor != SecondFactor.NONE:
                    user.second_factor = SecondFactor.NONE
                    user.save(update_fields=["second_factor"])
                lines.append(f"  {role:<8} {email:<24} password: {password}")
        self.stdout.write(f"Demo company: {company.name} ({company.pk})")
        for line in lines:
            self.stdout.write(line)
        self.stdout.write("The manager's sign-in asks for an emailed code: it is printed on this console (console email backend).")

    def _create_bucket(self) -> None:
        client = s3.client()
        bucket = settings.KAKOI_MEDIA_BUCKET
        for attempt in range(20):
            try:
                existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                if bucket not in existing:
                    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.AWS_REGION})
                    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
                self.stdout.write(f"Media bucket: {bucket} at {settings.KAKOI_S3_ENDPOINT_URL or 'AWS'}")
                return
            except (BotoCoreError, ClientError) as exc:
                if attempt == 19:
                    raise CommandError(f"cannot reach S3 to create {bucket}: {exc}") from exc
                time.sleep(0.5)
