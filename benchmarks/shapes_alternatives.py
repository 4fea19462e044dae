"""What the library options would cost on the hot path (issue 11, item 5): the measurement behind the choice.

The same work as `shapes_validation.py` (a credentials body with 2 blobs, then the 3.0 and the 2.0
provider result inside them), written with:

- (a) DRF serializers (`rest_framework.serializers`), the way `api/apis.py` described the shapes;
- (b) plain pydantic v2 models in lax mode, without the v1 coercions (the adopted shapes are what
  `shapes_validation.py` measures).

Valid input only (the hot path): these prototypes do not reproduce the error bodies, which would
only add work (an adapter turning the library's errors into pydantic v1's items and order).
Run: `.venv/bin/python benchmarks/shapes_alternatives.py`.

Figures when the choice was made (CPU µs, best of 25 rounds, shared 2-core machine, Python 3.11):

| | body | payloads |
|---|---:|---:|
| hand-written checks and field tables (before) | 12 | 62 |
| (a) DRF serializers, valid input only | 319 | 935 |
| (b) plain pydantic v2, valid input only, no v1 coercions | 3.5 | 10.5 |
| (b) as adopted: pydantic v2 + v1 coercions, v1 error items, dataclasses out | 15 | 54 |

(a) alone is 20× the whole budget share of validation, so DRF serializers were rejected. The
adopted (b) keeps the v1 coercions as Python functions (`Coerced`), which is where most of its
time goes; the whole request's validation went from about 79 to about 73 µs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

import django
from django.conf import settings

settings.configure(USE_TZ=True, INSTALLED_APPS=["rest_framework"])
django.setup()

from rest_framework import serializers

from benchmarks.shapes_validation import DOCUMENTS, RAW_BODY, best_us
from benchmarks.shapes_validation import body_step as project_body
from benchmarks.shapes_validation import payloads_step as project_payloads

# --- (a) DRF serializers ---------------------------------------------------------------------


class Blob(serializers.Serializer):
    payload = serializers.CharField(trim_whitespace=False)
    signature = serializers.CharField(trim_whitespace=False)


class CredentialsRequestData(serializers.Serializer):
    events = Blob(many=True)
    stoken = serializers.UUIDField()
    issueCommitmentMessage = serializers.CharField(trim_whitespace=False)


class HolderV3(serializers.Serializer):
    firstName = serializers.CharField(trim_whitespace=False, allow_blank=True)
    lastName = serializers.CharField(trim_whitespace=False, allow_blank=True)
    infix = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False, allow_null=True)
    birthDate = serializers.RegexField(r"^[0-9]{4}-([0-9]{2}|XX)-([0-9]{2}|XX)$")


class Vaccination(serializers.Serializer):
    date = serializers.DateField()
    hpkCode = serializers.CharField(required=False, allow_null=True)
    type = serializers.CharField(required=False, allow_null=True)
    manufacturer = serializers.CharField(required=False, allow_null=True)
    brand = serializers.CharField(required=False, allow_null=True)
    completedByMedicalStatement = serializers.BooleanField(required=False, allow_null=True)
    completedByPersonalStatement = serializers.BooleanField(required=False, allow_null=True)
    country = serializers.CharField(required=False, allow_null=True)
    doseNumber = serializers.IntegerField(required=False, allow_null=True)
    totalDoses = serializers.IntegerField(required=False, allow_null=True)


class Test(serializers.Serializer):
    sampleDate = serializers.DateTimeField()
    negativeResult = serializers.BooleanField(required=False)
    positiveResult = serializers.BooleanField(required=False)
    facility = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField()
    manufacturer = serializers.CharField()
    country = serializers.CharField(required=False, allow_null=True)


class Recovery(serializers.Serializer):
    sampleDate = serializers.DateField()
    validFrom = serializers.DateField()
    validUntil = serializers.DateField()
    country = serializers.CharField(required=False, allow_null=True)


class EventV3(serializers.Serializer):
    type = serializers.ChoiceField(["vaccination", "negativetest", "positivetest", "recovery", "test"])
    unique = serializers.CharField(required=False, allow_null=True)
    isSpecimen = serializers.BooleanField(required=False, default=False)
    vaccination = Vaccination(required=False, allow_null=True)
    negativetest = Test(required=False, allow_null=True)
    positivetest = Test(required=False, allow_null=True)
    recovery = Recovery(required=False, allow_null=True)


class ResultV3(serializers.Serializer):
    protocolVersion = serializers.CharField()
    providerIdentifier = serializers.CharField()
    status = serializers.CharField(required=False, default="complete")
    holder = HolderV3()
    events = EventV3(many=True)


class HolderV2(serializers.Serializer):
    firstNameInitial = serializers.CharField()
    lastNameInitial = serializers.CharField()
    birthDay = serializers.CharField()
    birthMonth = serializers.CharField()


class TestResultV2(serializers.Serializer):
    unique = serializers.CharField()
    sampleDate = serializers.DateTimeField()
    testType = serializers.CharField()
    negativeResult = serializers.BooleanField()
    isSpecimen = serializers.BooleanField(required=False, default=False)
    holder = HolderV2()


class ResultV2(serializers.Serializer):
    protocolVersion = serializers.CharField()
    providerIdentifier = serializers.CharField()
    status = serializers.CharField()
    result = TestResultV2()


def drf_body() -> None:
    serializer = CredentialsRequestData(data=json.loads(RAW_BODY))
    assert serializer.is_valid(), serializer.errors


def drf_payloads() -> None:
    for document, shape in zip(DOCUMENTS, (ResultV3, ResultV2), strict=True):
        serializer = shape(data=document)
        assert serializer.is_valid(), serializer.errors


# --- (b) pydantic v2 --------------------------------------------------------------------------


def pydantic_steps() -> tuple[Any, Any] | None:
    try:
        import pydantic
    except ImportError:
        return None
    from datetime import date, datetime
    from typing import Literal
    from uuid import UUID

    from pydantic import BaseModel, Field

    class PBlob(BaseModel):
        payload: str
        signature: str

    class PCredentialsRequestData(BaseModel):
        events: list[PBlob]
        stoken: UUID
        issueCommitmentMessage: str

    class PHolderV3(BaseModel):
        firstName: str
        lastName: str
        infix: str | None = None
        birthDate: str = Field(pattern=r"^[0-9]{4}-([0-9]{2}|XX)-([0-9]{2}|XX)$")

    class PVaccination(BaseModel):
        date: date
        hpkCode: str | None = None
        type: str | None = None
        manufacturer: str | None = None
        brand: str | None = None
        completedByMedicalStatement: bool | None = None
        completedByPersonalStatement: bool | None = None
        country: str | None = "NL"
        doseNumber: int | None = None
        totalDoses: int | None = None

    class PTest(BaseModel):
        sampleDate: datetime
        negativeResult: bool | None = None
        positiveResult: bool | None = None
        facility: str
        type: str
        name: str
        manufacturer: str
        country: str | None = "NL"

    class PRecovery(BaseModel):
        sampleDate: date
        validFrom: date
        validUntil: date
        country: str | None = "NL"

    class PEventV3(BaseModel):
        type: Literal["vaccination", "negativetest", "positivetest", "recovery", "test"]
        unique: str | None = None
        isSpecimen: bool = False
        vaccination: PVaccination | None = None
        negativetest: PTest | None = None
        positivetest: PTest | None = None
        recovery: PRecovery | None = None

    class PResultV3(BaseModel):
        protocolVersion: str
        providerIdentifier: str
        status: str = "complete"
        holder: PHolderV3
        events: list[PEventV3]

    class PHolderV2(BaseModel):
        firstNameInitial: str
        lastNameInitial: str
        birthDay: str
        birthMonth: str

    class PTestResultV2(BaseModel):
        unique: str
        sampleDate: datetime
        testType: str
        negativeResult: bool
        isSpecimen: bool = False
        holder: PHolderV2

    class PResultV2(BaseModel):
        protocolVersion: str
        providerIdentifier: str
        status: str
        result: PTestResultV2

    print(f"(pydantic {pydantic.VERSION})")

    def body() -> None:
        PCredentialsRequestData.model_validate_json(RAW_BODY)

    def payloads() -> None:
        PResultV3.model_validate(DOCUMENTS[0])
        PResultV2.model_validate(DOCUMENTS[1])

    return body, payloads


def main() -> None:
    rows = [
        ("this project (shapes_validation.py)", project_body, project_payloads),
        ("(a) DRF serializers", drf_body, drf_payloads),
    ]
    steps = pydantic_steps()
    if steps is not None:
        rows.append(("(b) pydantic v2 (structure only)", *steps))
    print(f"{'':34} {'body':>8} {'payloads':>9}   (CPU µs, best of 25 rounds)")
    for name, body, payloads in rows:
        print(f"{name:34} {best_us(body):8.1f} {best_us(payloads):9.1f}")


if __name__ == "__main__":
    main()
