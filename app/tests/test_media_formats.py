"""PATH-3 / PATH-1: the media type allow-list, the magic-number checks and the display-name rules (no database)."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest
from media import formats
from media.objects import content_disposition, upload_origin
from media.service import UploadError, clean_display_name, name_from_file_name, validate_new_name


def wav_bytes(frames: int = 800, rate: int = 8000) -> bytes:
    """A real (tiny) WAV file: a 440 Hz tone, 16-bit mono."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(frames)))
    return buffer.getvalue()


EBML_WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04"
EBML_MKV = b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x88matroska\x42\x87\x81\x04"

#: one genuine file head per container format
SAMPLES = {
    "wav": wav_bytes()[:64],
    "mp3-id3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 54,
    "mp3-frame": b"\xff\xfb\x90\x64" + b"\x00" * 60,
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 57,
    "ogg": b"OggS\x00\x02" + b"\x00" * 58,
    "flac": b"fLaC\x00\x00\x00\x22" + b"\x00" * 56,
    "webm": EBML_WEBM + b"\x00" * (64 - len(EBML_WEBM)),
    "mkv": EBML_MKV + b"\x00" * (64 - len(EBML_MKV)),
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 32,
    "m4a": b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 36,
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 44,
}

#: which sample each allowed type must accept
EXPECTED = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": ("mp3-id3", "mp3-frame"),
    "audio/aac": "aac",
    "audio/ogg": "ogg",
    "video/ogg": "ogg",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/webm": "webm",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    # one container family (ISO base media file format): the signature is "ftyp" at offset 4 for all of them
    "audio/mp4": ("mp4", "m4a", "mov"),
    "audio/x-m4a": ("mp4", "m4a", "mov"),
    "video/mp4": ("mp4", "m4a", "mov"),
    "video/quicktime": ("mov", "mp4", "m4a"),
}

NOT_MEDIA = {
    "html": b"<!doctype html><script>alert(1)</script>",
    "pe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00",
    "elf": b"\x7fELF\x02\x01\x01\x00",
    "zip": b"PK\x03\x04\x14\x00\x00\x00",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "riff-avi": b"RIFF\x00\x00\x00\x00AVI LIST",
    "empty": b"",
}


def test_path3_allow_list_is_exactly_the_tested_types():
    """PATH-3: every allowed content type has a magic-number expectation here (a new type needs one)."""
    assert set(formats.ALLOWED) == set(EXPECTED)
    for content_type, media_type in formats.ALLOWED.items():
        assert "/" in content_type and content_type == content_type.lower() and ";" not in content_type
        assert media_type.extension.isalnum()


@pytest.mark.parametrize("content_type", sorted(EXPECTED))
def test_path3_magic_numbers_accept_their_format_and_refuse_the_others(content_type: str):
    """PATH-3: a claimed type is accepted only with its own signature; other formats and non-media files are refused."""
    accepted = EXPECTED[content_type]
    accepted = (accepted,) if isinstance(accepted, str) else accepted
    for name, head in SAMPLES.items():
        assert formats.matches(content_type, head) is (name in accepted), (content_type, name)
    for name, head in NOT_MEDIA.items():
        assert not formats.matches(content_type, head), (content_type, name)


def test_path3_types_outside_the_list_never_match():
    """PATH-3: near misses of an allowed type (parameters, case, other types) are not allowed."""
    for content_type in ("audio/wav; codecs=1", "Audio/WAV", "audio/wav ", "text/html", "application/octet-stream", "image/svg+xml", ""):
        assert not formats.is_allowed(content_type)
        assert not formats.matches(content_type, SAMPLES["wav"])


def test_path3_display_names_come_only_from_the_file_name_and_are_cleaned():
    """PATH-3: directory parts and control characters of the browser's file name are dropped (it is only a label)."""
    assert name_from_file_name("C:\\Users\\x\\..\\meeting.wav") == "meeting.wav"
    assert name_from_file_name("../../etc/passwd") == "passwd"
    assert name_from_file_name("a\r\nb\x00c\u202ed.wav") == "a b c d.wav"
    assert name_from_file_name("") == "Untitled recording"
    assert name_from_file_name("/") == "Untitled recording"
    assert len(name_from_file_name("x" * 5000)) == 200
    assert clean_display_name("  caf\u0065\u0301  ") == "caf\u00e9"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a\x00b", "control"),
        ("bad\nname", "control"),
        ("rtl\u202eoverride", "control"),
        ("x" * 201, "at most"),
    ],
)
def test_path3_renames_refuse_bad_names(typed: str, message: str):
    """PATH-3 / XSS-1: a rename is refused (not silently changed) for empty, control-character or too-long names."""
    with pytest.raises(UploadError, match=message):
        validate_new_name(typed)


def test_xss1_renames_keep_markup_as_text():
    """XSS-1: markup is a valid name (the templates escape it); whitespace is normalised."""
    assert validate_new_name("  <b>Board</b>   meeting ") == "<b>Board</b> meeting"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("meeting", "attachment; filename*=UTF-8''meeting.wav"),
        ("meeting.WAV", "attachment; filename*=UTF-8''meeting.WAV"),
        ('会議 "2026".wav', "attachment; filename*=UTF-8''%E4%BC%9A%E8%AD%B0%20%222026%22.wav"),
        ("x\r\nSet-Cookie: a=b", "attachment; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db.wav"),
        ("a;b/c\\d", "attachment; filename*=UTF-8''a%3Bb%2Fc%5Cd.wav"),
    ],
)
def test_path3_download_disposition_is_percent_encoded(name: str, expected: str):
    """PATH-3 / HDR-1: the download name is RFC 5987 percent-encoded: no quote, separator or line break survives."""
    assert content_disposition(name, "wav") == expected


def test_enc1_upload_origin_is_the_regional_https_endpoint_or_the_configured_one():
    """ENC-1: without an endpoint the browser talks to https://<bucket>.s3.<region>.amazonaws.com; with one, to its origin."""
    assert upload_origin("", "kakoi-media", "ap-northeast-1") == "https://kakoi-media.s3.ap-northeast-1.amazonaws.com"
    assert upload_origin("http://127.0.0.1:9000/", "b", "ap-northeast-1") == "http://127.0.0.1:9000"
    assert upload_origin("https://s3.example:8443/x", "b", "r") == "https://s3.example:8443"
