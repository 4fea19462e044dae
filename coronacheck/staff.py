"""Staff access (issue "Reliability across processes"): the content security policy of the staff
pages, the client address that login throttling counts, and a log of staff logins and of every
change to rules, providers and print tokens.

What the log holds, and what it does not: the user's database id (a staff identifier that the
admin maps to an account), never a username as typed (a failed login's "username" is whatever was
typed, sometimes a password in the wrong field), never a password or token, and client addresses
only as the keyed hash the rate limit uses. Changes name the model, the object's id and the
action; the before/after values are in the change history of the admin (simple_history), not in
the log.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from axes.signals import user_locked_out
from csp.middleware import CSPMiddleware
from django.apps import apps
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponseBase
from simple_history.models import HistoricalRecords

from api.ratelimit import client_address, client_key

logger = logging.getLogger("coronacheck.staff")

STAFF_PATH_PREFIXES = ("/admin/", "/docs", "/redoc")
# Models whose every change is logged: the business rules, the provider registry, print tokens.
AUDITED_MODELS = (
    "events.RuleConfiguration",
    "events.HpkCode",
    "events.ValueSetEntry",
    "events.RequiredDoses",
    "events.PartialDisclosureRule",
    "events.Provider",
    "events.ProviderCertificate",
    "signing.PrintToken",
)


class StaffContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware on the staff pages only: API answers keep their exact headers."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not request.path.startswith(STAFF_PATH_PREFIXES):
            return response
        return super().process_response(request, response)


def client_ip(request: HttpRequest) -> str | None:
    """The address django-axes counts: the rate limit's notion of the client (api.ratelimit);
    None when there is no valid one (axes stores it in an address column)."""
    address = client_address(request.META, trust_forwarded_for=settings.RATE_LIMIT_TRUST_X_FORWARDED_FOR)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _client(request: HttpRequest | None) -> str:
    address = client_ip(request) if request is not None else None
    return client_key(address) if address else "-"


def _actor() -> str:
    """Who made a change: `user:<id>` in the admin, `command` for manage.py and other code."""
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "command"


def _logged_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    logger.info("staff login", extra={"event": "staff_login", "user_id": getattr(user, "pk", None), "client": _client(request)})


def _logged_out(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    logger.info("staff logout", extra={"event": "staff_logout", "user_id": getattr(user, "pk", None), "client": _client(request)})


def _login_failed(sender: Any, credentials: dict | None = None, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The typed username is not logged (see the module docstring); axes keeps the counts.
    logger.warning("staff login failed", extra={"event": "staff_login_failed", "client": _client(request)})


def _locked_out(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    logger.warning("staff login locked out", extra={"event": "staff_locked_out", "client": _client(request)})


def _saved(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    _changed(sender, instance, "created" if created else "changed")


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _changed(sender, instance, "deleted")


def _changed(sender: Any, instance: Any, action: str) -> None:
    logger.info(
        "staff change",
        extra={
            "event": "staff_change",
            "model": sender._meta.label,
            "object_id": instance.pk,
            "action": action,
            "actor": _actor(),
        },
    )


def connect() -> None:
    """Called once from `CoronacheckConfig.ready`."""
    user_logged_in.connect(_logged_in, dispatch_uid="staff-login")
    user_logged_out.connect(_logged_out, dispatch_uid="staff-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="staff-login-failed")
    user_locked_out.connect(_locked_out, dispatch_uid="staff-locked-out")
    for label in AUDITED_MODELS:
        model = apps.get_model(label)
        post_save.connect(_saved, sender=model, dispatch_uid=f"staff-change-{label}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"staff-delete-{label}")
