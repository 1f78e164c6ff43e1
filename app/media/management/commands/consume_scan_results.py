"""`manage.py consume_scan_results`: apply GuardDuty scan result events from SQS, and sweep for lost ones (AV-1).

Runs as its own small ECS service from the app image (components/scan_events.py). Each message
is applied in its own transaction (media.scans.record_event) and deleted only after COMMIT, so
a crash between the two means a redelivery, which is harmless (idempotent). A message that is
not a valid scan result is logged and left alone: after the queue's maxReceiveCount receives
SQS moves it to the dead-letter queue (alarmed). Any other error is logged and the message is
retried after its visibility timeout; the loop itself never stops on a bad message.
Every MEDIA_SCAN_SWEEP_INTERVAL_SECONDS the reconciliation sweep (media.scans.sweep) runs.
While the database is unreachable it does not receive at all (each receive counts towards the
dead-letter queue), and waits with backoff. SIGTERM (ECS stopping the task) ends the loop after
the current batch.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from boto3.session import Session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections, connection

from media import scans

logger = logging.getLogger("media.scans.consumer")


def sqs_client() -> Any:
    return Session().client(
        "sqs",
        region_name=settings.AWS_REGION,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30),
    )


def database_ready() -> bool:
    try:
        connection.ensure_connection()
    except DatabaseError:
        return False
    return True


class Consumer:
    def __init__(self, queue_url: str, *, sqs: Any = None, wait_seconds: int = 20) -> None:
        self.queue_url = queue_url
        self.sqs = sqs or sqs_client()
        self.wait_seconds = wait_seconds
        self.counts: dict[str, int] = {}
        self.stopping = False

    def _count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def handle(self, message: dict[str, Any]) -> str:
        """Apply one message; delete it when applied (or when there is nothing to apply). Never raises."""
        receipt = message.get("ReceiptHandle", "")
        try:
            event = scans.parse_event(message.get("Body", ""))
        except scans.MalformedEventError as exc:
            receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
            logger.error(
                "malformed scan event %s (receive %s, left for the dead-letter queue): %s", message.get("MessageId"), receives, exc
            )
            return "malformed"
        try:
            outcome = scans.record_event(event)
        except DatabaseError:
            logger.exception("scan event %s for %s: database error, will be retried", message.get("MessageId"), event.key)
            close_old_connections()
            return "retry"
        except Exception:  # a bug must not stop the consumer: the message is retried, then dead-lettered
            logger.exception("scan event %s for %s could not be applied, will be retried", message.get("MessageId"), event.key)
            return "retry"
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("deleting scan event %s failed (it will be redelivered, harmlessly): %s", message.get("MessageId"), exc)
        logger.info("scan event %s: %s %s -> %s", message.get("MessageId"), event.key, event.result, outcome)
        return outcome

    def poll_once(self) -> int:
        try:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=self.wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("receiving scan events failed: %s", exc)
            time.sleep(min(5, self.wait_seconds))
            return 0
        messages = response.get("Messages", [])
        for message in messages:
            self._count(self.handle(message))
        return len(messages)

    def sweep(self) -> None:
        try:
            for outcome, number in scans.sweep().items():
                self.counts[f"sweep-{outcome}"] = self.counts.get(f"sweep-{outcome}", 0) + number
        except DatabaseError:
            logger.exception("scan sweep: database error")
            close_old_connections()
        except Exception:
            logger.exception("scan sweep failed")


class Command(BaseCommand):
    help = "Apply GuardDuty Malware Protection scan results from the SQS queue (KAKOI_SCAN_QUEUE_URL), and sweep for lost events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-url", default="", help="the queue (default: KAKOI_SCAN_QUEUE_URL)")
        parser.add_argument("--once", action="store_true", help="one receive (and one sweep), then exit")
        parser.add_argument("--sweep-only", action="store_true", help="only run the reconciliation sweep once")
        parser.add_argument("--wait-seconds", type=int, default=20, help="long-poll wait (0..20)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sweep_only"]:
            consumer = Consumer("", sqs=object())
            consumer.sweep()
            self.stdout.write(f"sweep: {consumer.counts}")
            return
        queue_url = options["queue_url"] or settings.KAKOI_SCAN_QUEUE_URL
        if not queue_url:
            raise CommandError("KAKOI_SCAN_QUEUE_URL is not set (or pass --queue-url): the queue of GuardDuty scan result events.")
        wait = options["wait_seconds"]
        if not 0 <= wait <= 20:
            raise CommandError("--wait-seconds must be between 0 and 20 (SQS long polling).")
        consumer = Consumer(queue_url, wait_seconds=wait)
        if options["once"]:
            consumer.poll_once()
            consumer.sweep()
            self.stdout.write(f"scan events: {consumer.counts}")
            return

        def stop(_signum: int, _frame: Any) -> None:
            consumer.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        interval = int(settings.MEDIA_SCAN_SWEEP_INTERVAL_SECONDS)
        next_sweep = time.monotonic()
        logger.info("consuming scan events from %s (sweep every %d s)", queue_url, interval)
        backoff = 1.0
        while not consumer.stopping:
            close_old_connections()
            if not database_ready():
                # do not receive while the database is unreachable (a failover): every receive counts
                # towards the dead-letter queue's maxReceiveCount
                logger.warning("database unreachable: waiting %.0f s before receiving scan events", backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            consumer.poll_once()
            if time.monotonic() >= next_sweep:
                consumer.sweep()
                next_sweep = time.monotonic() + interval
        logger.info("stopped: %s", consumer.counts)
