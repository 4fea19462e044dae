"""The app's Idemix side of `/app/prepare_issue/` + `/app/credentials/`, for tests, the demo and
the benchmarks (signers.md §2.2, §2.3; api.md §4).

`app_commitments(prepareIssueMessage)` does what the app's Idemix core does with the service's
`prepareIssueMessage`: a fresh holder secret and one commitment per credential against the
signer's nonce, as the base64 `issueCommitmentMessage` to send; `construct` then builds the
credentials from the `createCredentialMessages` of the domestic green card (checking ProofS, `e`
and the CL equation), and `disclose` makes a QR as the app shows it. The public key defaults to
the TEST ONLY pair, which the tests' reference signers use.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER, load_idemix_public_key
from idemix import holder
from idemix.encoding import decode_big_int, decode_metadata_attribute
from idemix.holder import CategoryMode, Credential, CredentialBuilder
from idemix.issuer import CreateCredentialMessage
from idemix.keys import PublicKey


@cache
def _public_key(folder: Path) -> PublicKey:
    return load_idemix_public_key(folder)


def shared_test_public_key() -> PublicKey:
    """The TEST ONLY public key (reference/keys/idemix/pk.xml)."""
    return _public_key(TEST_IDEMIX_KEY_FOLDER)


def _json(value: str | bytes | Mapping[str, Any]) -> Any:
    """A JSON document given as the service hands it out: base64 text of the JSON, or decoded."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, list):
        return value
    return json.loads(base64.b64decode(value, validate=True))


@dataclass(frozen=True)
class AppHolder:
    """One issuance session on the app's side."""

    public: PublicKey
    secret: int
    builders: tuple[CredentialBuilder, ...]
    icm: str  # base64 of the issue commitment message JSON, as /app/credentials/ takes it

    def construct(
        self, create_credential_messages: str | Sequence[Mapping[str, Any]], version: int | None = None
    ) -> list[Credential]:
        """Build the credentials (the domestic green card's `createCredentialMessages`: base64 of
        the JSON list, or the list); raises `idemix.holder.HolderError` when one does not verify.
        `version`: the expected credential version; by default the one the first credential's
        metadata names (the service sends `DOMESTIC_NL_CREDENTIAL_VERSION`)."""
        messages = (
            _json(create_credential_messages) if isinstance(create_credential_messages, str) else create_credential_messages
        )
        parsed = [CreateCredentialMessage.from_json(message) for message in messages]
        if version is None:
            version = decode_metadata_attribute(parsed[0].attributes[0])[0] if parsed else 2
        return holder.construct_credentials(self.builders, parsed, version)

    def disclose(
        self, credential: Credential, disclosure_time: int, mode: CategoryMode = CategoryMode.DISCLOSED_V2_SERIALIZATION
    ) -> str:
        """The QR the app would show at `disclosure_time` (unix seconds)."""
        qr, _identifier = holder.disclose_qr(self.secret, credential, mode, disclosure_time)
        return qr


def app_commitments(prepare_issue_message: str | Mapping[str, Any], public: PublicKey | None = None) -> AppHolder:
    """Commitments for every credential the prepare-issue message announces (`credentialAmount`)."""
    specification = _json(prepare_issue_message)
    key = public or shared_test_public_key()
    secret = holder.generate_secret()
    builders, message = holder.create_commitments(
        key, secret, decode_big_int(specification["issuerNonce"]), max(1, int(specification["credentialAmount"]))
    )
    icm = base64.b64encode(json.dumps(message.to_json(), separators=(",", ":")).encode()).decode("ascii")
    return AppHolder(key, secret, tuple(builders), icm)


def holder_icm(prepare_issue_message: str | Mapping[str, Any], public: PublicKey | None = None) -> str:
    """Just the base64 issue commitment message for /app/credentials/."""
    return app_commitments(prepare_issue_message, public).icm
