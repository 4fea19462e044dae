"""EU rules: pre-filter, one message per event, DCC construction, schema check, expiration and
the print variant (rules-eu.md §2–§8).

Pure functions: the request's "now" and the UUID source are parameters; the input events are
deep-copied; the DCC schema is `events.dccschema`. Warnings never contain personal data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import fastjsonschema
import jsonschema

from events.dccschema import DCC_VALIDATOR, dcc_schema_compiled_check
from events.decoding.normalise import eu_dob, normalize
from events.rules.config import EU_RECOVERY_MAXIMUM_DAYS, RuleConfig
from events.rules.pipeline import distill, midnight_utc
from events.rules.uci import generate_uci
from events.types import (
    V2_BIRTH_YEAR,
    Event,
    Holder,
    NegativeTest,
    Origin,
    PositiveTest,
    Recovery,
    Vaccination,
)

logger = logging.getLogger(__name__)

NewUuid = Callable[[], uuid.UUID]

DCC_VERSION = "1.3.0"
DISEASE_TARGETED = "840539006"
ISSUER = "Ministry of Health Welfare and Sport"
TEST_RESULT_NOT_DETECTED = "260415000"
SPECIMEN_EXPIRATION_TIME = "1970-01-01T00:00:42+00:00"
DUTCH_ONLY_TEST_TYPE_PREFIXES: tuple[str, ...] = ("NL:BREATH", "NL:BIKKER")
MAX_TEXT_LENGTH = 80
MIN_DOSE, MAX_DOSE = 1, 9
MIN_BIRTH_YEAR, MAX_BIRTH_YEAR = 1900, 2099

KEY_USAGE = {"vaccination": "vaccination", "negativetest": "test", "positivetest": "recovery", "recovery": "recovery"}


class DccNotBuildable(Exception):
    """An event that cannot become a DCC (rules-eu.md §4); the message holds no personal data."""


@dataclass
class EuMessage:
    """One signing message for the EU signer plus what the response needs (rules-eu.md §3, §7)."""

    key_usage: str
    expiration_time: str
    signer_expiration_time: str
    dcc: dict[str, Any]
    origin: Origin
    uci: str
    source_provider: str
    unique: str | None

    def signer_request(self) -> dict[str, Any]:
        """The body sent to the EU signer (signers.md §3; decision o); absent v/t/r are omitted."""
        return {"keyUsage": self.key_usage, "expirationTime": self.signer_expiration_time, "dcc": self.dcc}

    def display_dcc(self) -> dict[str, Any]:
        """The print response's copy: `v`, `t` and `r` all present, the absent ones None (§8)."""
        display = {key: value for key, value in self.dcc.items() if key not in ("v", "t", "r")}
        for group in ("v", "t", "r"):
            display[group] = self.dcc.get(group)
        return display


# --- §2 pre-filter -------------------------------------------------------------------------------


def is_eu_candidate(event: Event, config: RuleConfig) -> bool:
    """§2: v2-upgraded and Dutch-only negative tests and non-listed positive tests are removed."""
    payload = event.payload
    if isinstance(payload, NegativeTest):
        if event.holder.birth_year == V2_BIRTH_YEAR:
            return False
        return not payload.type.upper().startswith(DUTCH_ONLY_TEST_TYPE_PREFIXES)
    if isinstance(payload, PositiveTest):
        return payload.type in config.eu_recovery_test_types
    return True


def eu_pre_filter(events: list[Event], config: RuleConfig) -> list[Event]:
    """The EU-only pre-filter before the pipeline (rules-eu.md §2)."""
    return [event for event in events if is_eu_candidate(event, config)]


def eu_events(events: list[Event], *, config: RuleConfig, now: datetime) -> list[Event]:
    """§2: pre-filter, then the distillation pipeline (incomplete vaccinations are kept)."""
    return distill(eu_pre_filter(events, config), config=config, now=now)


# --- §4 DCC construction -------------------------------------------------------------------------


def dcc_names(holder: Holder) -> dict[str, str]:
    """`nam` (§4): surname with infix, transliterations; all truncated to 80 after normalisation."""
    family_name = f"{holder.infix} {holder.last_name}" if holder.infix else holder.last_name
    return {
        "fn": family_name[:MAX_TEXT_LENGTH],
        "fnt": normalize(family_name)[:MAX_TEXT_LENGTH],
        "gn": holder.first_name[:MAX_TEXT_LENGTH],
        "gnt": normalize(holder.first_name)[:MAX_TEXT_LENGTH],
    }


def dcc_dob(holder: Holder) -> str:
    """`dob` (§4); a birth year outside 1900–2099 cannot be expressed (decision x)."""
    if not MIN_BIRTH_YEAR <= holder.birth_year <= MAX_BIRTH_YEAR:
        raise DccNotBuildable("birth year outside 1900-2099")
    return eu_dob(holder)


def common_entry_fields(country: str | None, uci: str) -> dict[str, str]:
    """`co`, `is`, `ci` of every entry; a missing country is `NL` (decision j)."""
    return {"co": country or "NL", "is": ISSUER, "ci": uci}


def dose(value: int | None, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_DOSE <= value <= MAX_DOSE:
        raise DccNotBuildable(f"vaccination {name} outside {MIN_DOSE}-{MAX_DOSE}")
    return value


def vaccination_entry(vaccination: Vaccination, config: RuleConfig, uci: str) -> dict[str, Any]:
    """`v` entry (§4): HPK mapping first, overridden by the provider's non-empty values."""
    vp = mp = ma = None
    if vaccination.hpk_code and vaccination.hpk_code in config.hpk_codes:
        entry = config.hpk_codes[vaccination.hpk_code]
        vp, mp, ma = entry.vp, entry.mp, entry.ma
    vp, mp, ma = vaccination.type or vp, vaccination.brand or mp, vaccination.manufacturer or ma
    if not (vp and mp and ma):
        raise DccNotBuildable("vaccination without vaccine type, product or manufacturer")
    return {
        "tg": DISEASE_TARGETED,
        "vp": vp,
        "mp": mp,
        "ma": ma,
        "dn": dose(vaccination.dose_number, "doseNumber"),
        "sd": dose(vaccination.total_doses, "totalDoses"),
        "dt": vaccination.date.isoformat(),
        **common_entry_fields(vaccination.country, uci),
    }


def negative_test_entry(test: NegativeTest, config: RuleConfig, uci: str) -> dict[str, Any]:
    """`t` entry (§4); `tc` override (decision j); `nm` and `tc` cut to 80 characters."""
    return {
        "tg": DISEASE_TARGETED,
        "tt": test.type,
        "nm": test.name[:MAX_TEXT_LENGTH],
        "ma": test.manufacturer,
        "sc": test.sample_date.isoformat(),
        "tr": TEST_RESULT_NOT_DETECTED,
        "tc": (config.eu_international_override_tc or test.facility)[:MAX_TEXT_LENGTH],
        **common_entry_fields(test.country, uci),
    }


def recovery_dates(payload: Recovery | PositiveTest, config: RuleConfig) -> tuple[date, date, date]:
    """(`fr`, `df`, `du`) of a recovery entry (§4, decision t)."""
    maximum = timedelta(days=EU_RECOVERY_MAXIMUM_DAYS)
    recovery_days = timedelta(days=config.eu_international_positive_test_recovery_days)
    if isinstance(payload, Recovery):
        first_positive = payload.sample_date
        valid_until = min(payload.valid_until, first_positive + maximum)
        valid_from = max(first_positive + recovery_days, payload.valid_from)
    else:
        first_positive = payload.sample_date.date()
        du_days = min(config.eu_international_positivetest_recovery_du_days, EU_RECOVERY_MAXIMUM_DAYS)
        valid_until = first_positive + timedelta(days=du_days)
        valid_from = first_positive + recovery_days
    if valid_from > valid_until:
        raise DccNotBuildable("recovery valid-from after valid-until")
    return first_positive, valid_from, valid_until


def recovery_entry(payload: Recovery | PositiveTest, config: RuleConfig, uci: str) -> dict[str, Any]:
    """`r` entry from a recovery or a positive test (§4); every entry gets its own UCI (decision e)."""
    first_positive, valid_from, valid_until = recovery_dates(payload, config)
    return {
        "tg": DISEASE_TARGETED,
        "fr": first_positive.isoformat(),
        "df": valid_from.isoformat(),
        "du": valid_until.isoformat(),
        **common_entry_fields(payload.country, uci),
    }


def dcc_entry(event: Event, config: RuleConfig, uci: str) -> tuple[str, dict[str, Any]]:
    """The group key (`v`, `t`, `r`) and its single entry for one event."""
    payload = event.payload
    if isinstance(payload, Vaccination):
        return "v", vaccination_entry(payload, config, uci)
    if isinstance(payload, NegativeTest):
        return "t", negative_test_entry(payload, config, uci)
    if isinstance(payload, (PositiveTest, Recovery)):
        return "r", recovery_entry(payload, config, uci)
    raise DccNotBuildable(f"no DCC for payload kind {type(payload).__name__}")  # pragma: no cover


def check_dcc_schema(dcc: dict[str, Any]) -> None:
    """Decision x: the DCC must validate against schema 1.3.0; the failure names the schema path only."""
    try:
        dcc_schema_compiled_check(dcc)
        return
    except fastjsonschema.JsonSchemaException:
        pass
    error = jsonschema.exceptions.best_match(DCC_VALIDATOR.iter_errors(dcc))
    path = "/".join(str(part) for part in error.absolute_schema_path) if error is not None else "?"
    raise DccNotBuildable(f"DCC fails the schema at {path}")


def build_dcc(event: Event, config: RuleConfig, uci: str) -> dict[str, Any]:
    """The DCC of one event, built from that event's own holder (§4); raises DccNotBuildable."""
    group, entry = dcc_entry(event, config, uci)
    dcc = {"ver": DCC_VERSION, "nam": dcc_names(event.holder), "dob": dcc_dob(event.holder), group: [entry]}
    check_dcc_schema(dcc)
    return dcc


# --- §7 expiration and origin --------------------------------------------------------------------


def expiration_time(now: datetime, days: int) -> datetime:
    """§7: now (UTC) + days, microseconds dropped."""
    return (now.astimezone(UTC) + timedelta(days=days)).replace(microsecond=0)


def eu_origin(dcc: dict[str, Any], expiration: datetime, is_specimen: bool, holder: Holder) -> Origin:
    """§7 origin table: from `dt`, `sc` or `fr`/`df` of the DCC; expiration never the specimen value."""
    if "v" in dcc:
        event_time = valid_from = midnight_utc(date.fromisoformat(dcc["v"][0]["dt"]))
        kind = "vaccination"
    elif "t" in dcc:
        event_time = valid_from = datetime.fromisoformat(dcc["t"][0]["sc"])
        kind = "test"
    else:
        event_time = midnight_utc(date.fromisoformat(dcc["r"][0]["fr"]))
        valid_from = midnight_utc(date.fromisoformat(dcc["r"][0]["df"]))
        kind = "recovery"
    return Origin(kind, event_time, valid_from, expiration, is_specimen=is_specimen, holder=holder)


# --- §3 messages ---------------------------------------------------------------------------------


def eu_message(event: Event, *, config: RuleConfig, now: datetime, expiration_days: int, new_uuid: NewUuid) -> EuMessage:
    """One signing message for one event (§3); raises DccNotBuildable."""
    uci = generate_uci(new_uuid)
    dcc = build_dcc(event, config, uci)
    expiration = expiration_time(now, expiration_days)
    rendered = expiration.isoformat()
    return EuMessage(
        key_usage=KEY_USAGE[event.type],
        expiration_time=rendered,
        signer_expiration_time=SPECIMEN_EXPIRATION_TIME if event.is_specimen else rendered,
        dcc=dcc,
        origin=eu_origin(dcc, expiration, event.is_specimen, event.holder),
        uci=uci,
        source_provider=event.source_provider,
        unique=event.unique,
    )


def create_messages(
    events: list[Event], *, config: RuleConfig, now: datetime, expiration_days: int, new_uuid: NewUuid
) -> list[EuMessage]:
    """§2–§4: one message per remaining event; an event that cannot be built is skipped."""
    messages = []
    for event in eu_events(events, config=config, now=now):
        try:
            messages.append(eu_message(event, config=config, now=now, expiration_days=expiration_days, new_uuid=new_uuid))
        except DccNotBuildable as reason:
            logger.warning("EU: %s event yields no certificate: %s", event.type, reason)
    return messages


def eu_messages(events: list[Event], *, config: RuleConfig, now: datetime, new_uuid: NewUuid = uuid.uuid4) -> list[EuMessage]:
    """App flow (rules-eu.md §1): the messages to sign, in pipeline order; [] when disabled."""
    if not config.eu_international_dynamic_signer_enabled:
        return []
    return create_messages(
        events,
        config=config,
        now=now,
        expiration_days=config.eu_international_greencard_expiration_time_days,
        new_uuid=new_uuid,
    )


def eu_print_message(
    events: list[Event], *, config: RuleConfig, now: datetime, new_uuid: NewUuid = uuid.uuid4
) -> EuMessage | None:
    """Print flow (rules-eu.md §8 steps 1–3): the single message to sign, or None."""
    if not config.eu_international_print_signer_enabled or not events:
        return None
    if len({event.type for event in events}) > 1:
        logger.error("EU print: events of more than one type; no European proof")
        return None
    messages = create_messages(events, config=config, now=now, expiration_days=config.eu_print_expiration_days, new_uuid=new_uuid)
    if len(messages) > 1:
        raise RuntimeError("EU print: more than one message for events of a single type")
    return messages[0] if messages else None
