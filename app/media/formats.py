"""The media types a member may upload, and the check that a file's first bytes match its claimed type.

The allow-list is code, not configuration: a type is added together with its
magic-number check and a test. The browser's Content-Type must equal one of the
keys exactly (the presigned POST policy pins it with an `eq` condition), and at
confirmation the object's first bytes (a ranged GET of SNIFF_BYTES) must carry
the signature of that type's container format.

Signatures (offsets in bytes):
- WAV: "RIFF" at 0 and "WAVE" at 8 (RIFF container).
- MP3: an "ID3" tag at 0, or an MPEG audio frame sync (11 set bits) with a valid layer.
- AAC (ADTS): a 12-bit sync 0xFFF, layer bits 00.
- Ogg (Vorbis/Opus/Theora): "OggS" at 0.
- FLAC: "fLaC" at 0.
- WebM / Matroska: the EBML magic 1A 45 DF A3 at 0, with the DocType "webm" resp. "matroska" in the header.
- MP4 / M4A / QuickTime: "ftyp" at 4 (ISO base media file format).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CONTROLS: dict[str, str] = {
    "PATH-3": "an upload's type comes from an exact allow-list; the stored object's first bytes must match it (magic number)",
}

SNIFF_BYTES = 64


def _wav(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _mp3(head: bytes) -> bool:
    if head[:3] == b"ID3":
        return True
    # frame sync: 11 bits set; layer (bits 1-2 of the second byte) 00 is reserved for AAC/ADTS
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] >> 1) & 0x03 != 0


def _adts(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


def _ogg(head: bytes) -> bool:
    return head[:4] == b"OggS"


def _flac(head: bytes) -> bool:
    return head[:4] == b"fLaC"


EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def _webm(head: bytes) -> bool:
    return head[:4] == EBML_MAGIC and b"webm" in head[:SNIFF_BYTES]


def _matroska(head: bytes) -> bool:
    return head[:4] == EBML_MAGIC and b"matroska" in head[:SNIFF_BYTES]


def _isobmff(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


@dataclass(frozen=True)
class MediaType:
    content_type: str
    extension: str
    label: str | Promise  # translated when shown
    matches: Callable[[bytes], bool]


_TYPES = (
    MediaType("audio/wav", "wav", _("WAV audio"), _wav),
    MediaType("audio/x-wav", "wav", _("WAV audio"), _wav),
    MediaType("audio/wave", "wav", _("WAV audio"), _wav),
    MediaType("audio/mpeg", "mp3", _("MP3 audio"), _mp3),
    MediaType("audio/aac", "aac", _("AAC audio"), _adts),
    MediaType("audio/ogg", "ogg", _("Ogg audio"), _ogg),
    MediaType("audio/flac", "flac", _("FLAC audio"), _flac),
    MediaType("audio/x-flac", "flac", _("FLAC audio"), _flac),
    MediaType("audio/webm", "webm", _("WebM audio"), _webm),
    MediaType("audio/mp4", "m4a", _("MPEG-4 audio"), _isobmff),
    MediaType("audio/x-m4a", "m4a", _("MPEG-4 audio"), _isobmff),
    MediaType("video/mp4", "mp4", _("MPEG-4 video"), _isobmff),
    MediaType("video/quicktime", "mov", _("QuickTime video"), _isobmff),
    MediaType("video/webm", "webm", _("WebM video"), _webm),
    MediaType("video/x-matroska", "mkv", _("Matroska video"), _matroska),
    MediaType("video/ogg", "ogv", _("Ogg video"), _ogg),
)

#: content type -> its description; the keys are the exact allow-list
ALLOWED: dict[str, MediaType] = {t.content_type: t for t in _TYPES}


def is_allowed(content_type: str) -> bool:
    return content_type in ALLOWED


def matches(content_type: str, head: bytes) -> bool:
    """Whether `head` (the object's first bytes) carries the signature of `content_type`."""
    media_type = ALLOWED.get(content_type)
    return media_type is not None and media_type.matches(head)
