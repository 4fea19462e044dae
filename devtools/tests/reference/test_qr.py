"""QR rendering of credentials: PNG and SVG, error correction Q, alphanumeric mode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.reference.hcert import sign_dcc
from devtools.reference.qr import credential_png, credential_qr, credential_svg


@pytest.fixture
def credential(test_dsc, vaccination_dcc) -> str:
    return sign_dcc(
        vaccination_dcc, key=test_dsc, expiration_time="2030-01-01T00:00:00Z", now=datetime(2021, 7, 1, tzinfo=UTC)
    ).credential


def test_qr_is_alphanumeric_with_error_correction_q(credential):
    qr = credential_qr(credential)
    assert qr.mode == "alphanumeric"
    assert qr.error == "Q"


def test_png_and_svg_are_produced(credential):
    assert credential_png(credential).startswith(b"\x89PNG\r\n\x1a\n")
    svg = credential_svg(credential)
    assert svg.startswith(b"<svg") and svg.rstrip().endswith(b"</svg>")


def test_domestic_qr_text_is_alphanumeric_too():
    assert credential_qr("NL2:ABC$%*+-./: 123").mode == "alphanumeric"


def test_text_outside_the_alphabet_is_refused():
    with pytest.raises(ValueError):
        credential_qr("hc1:lowercase")
