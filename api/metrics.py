"""`GET /metrics`: the Prometheus exposition of `common.metrics`, for the operators' scraper only.

Not public: without `METRICS_TOKEN` the path answers 404 like any unknown path; with it the
scraper must send `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization:
{credentials_file: ...}`), otherwise 401. Filter `/metrics` at the load balancer as well.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from common import metrics


@require_GET
async def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return JsonResponse({"detail": "Not Found"}, status=404)
    header = request.headers.get("Authorization", "")
    if not hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        response = JsonResponse(
            {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}, status=401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
