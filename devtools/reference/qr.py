"""QR rendering of a credential (`HC1:…` or `NL2:…`) for the print flow and for inspection.

Error correction level Q, alphanumeric mode (both credential formats use only the QR
alphanumeric alphabet). segno would raise the error level when the symbol has room; that is
switched off so the level is exactly Q.
"""

from __future__ import annotations

import io

import segno

ERROR_CORRECTION = "q"
MODE = "alphanumeric"


def credential_qr(credential: str) -> segno.QRCode:
    """The QR symbol of `credential`; ValueError when it is not in the alphanumeric alphabet."""
    try:
        return segno.make_qr(credential, error=ERROR_CORRECTION, mode=MODE, boost_error=False)
    except segno.DataOverflowError:
        raise
    except ValueError as error:
        raise ValueError("the credential is not QR alphanumeric text") from error


def credential_png(credential: str, *, scale: int = 4, border: int = 4) -> bytes:
    buffer = io.BytesIO()
    credential_qr(credential).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def credential_svg(credential: str, *, scale: int = 4, border: int = 4) -> bytes:
    buffer = io.BytesIO()
    credential_qr(credential).save(buffer, kind="svg", scale=scale, border=border, xmldecl=False)
    return buffer.getvalue()
