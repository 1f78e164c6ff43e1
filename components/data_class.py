"""What a bucket holds, declared as data: the `kakoi:data-class` tag (ENC-1, AV-1, LOG-1).

Every `aws.s3.Bucket` the program declares carries `tags=data_class_tags(<class>)`. The
policy pack selects the buckets a rule applies to by this tag, never by a bucket's name:
`kakoi-s3-tls13-minimum` (ENC-1) and `kakoi-av-media-malware-scan` (AV-1) judge the
`customer-media` buckets, and `kakoi-s3-data-class` requires every bucket to carry one
of the classes below. The pack cannot import the program, so it mirrors these values in
policies/kakoi_policy/constants.py; tests/policies/test_pack.py asserts both are equal.

The vocabulary (one value per bucket, what it holds, not where it is):

* ``customer-media``: what users upload and record (video/audio) and its DR replica:
  TLS 1.3 only (ENC-1), each upload malware-scanned at the source (AV-1).
* ``logs``: AWS log deliveries and S3 server access logs: kept for good (LOG-1).
* ``artifacts``: output of the platform's own tooling (canary screenshots, HAR files,
  script packages): no customer data.

Not to be confused with the stack-wide `data-classification` default tag
(stackconfig/core.py: public/internal/confidential/restricted), which says how sensitive
the whole stack is. Tag keys may use letters, digits, spaces and `_ . : / = + - @`, and
must not start with `aws:` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_Tag.html).
"""

from __future__ import annotations

from typing import Final

#: the tag key on every bucket
DATA_CLASS_TAG: Final = "kakoi:data-class"

CUSTOMER_MEDIA: Final = "customer-media"
LOGS: Final = "logs"
ARTIFACTS: Final = "artifacts"

#: every allowed value of DATA_CLASS_TAG
DATA_CLASSES: Final = (CUSTOMER_MEDIA, LOGS, ARTIFACTS)


def data_class_tags(data_class: str) -> dict[str, str]:
    """The tags that declare what a bucket holds (one of DATA_CLASSES)."""
    if data_class not in DATA_CLASSES:
        raise ValueError(f"data class {data_class!r} is not one of {list(DATA_CLASSES)} (components/data_class.py)")
    return {DATA_CLASS_TAG: data_class}


__all__ = ["ARTIFACTS", "CUSTOMER_MEDIA", "DATA_CLASSES", "DATA_CLASS_TAG", "LOGS", "data_class_tags"]
