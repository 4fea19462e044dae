"""URL configuration (api.md §2). Paths are exact; POSTs without the slash get a 307 from
`api.middleware.ApiMiddleware`."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from api import apis
from api.metrics import metrics_view
from signing import dashboard

DOCS_CDN = "https://cdn.jsdelivr.net"

urlpatterns = [
    path("", apis.HealthApi.as_view(), name="root"),
    path("health", apis.HealthApi.as_view(), name="health"),
    path("app/access_tokens/", apis.AccessTokensApi.as_view(), name="access-tokens"),
    path("app/prepare_issue/", apis.PrepareIssueApi.as_view(), name="prepare-issue"),
    path("app/credentials/", apis.CredentialsIssueApi.as_view(), name="credentials"),
    path("app/print/", apis.PrintProofApi.as_view(), name="print"),
    path("documentation/DataProviderEventsResult/", apis.DataProviderEventsResultApi.as_view()),
    path("documentation/V2Event/", apis.V2EventApi.as_view()),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/dashboard/", admin.site.admin_view(dashboard.dashboard_view), name="admin-dashboard"),
    path("admin/", admin.site.urls),
]

if settings.API_DOCS_UI_ENABLED:
    # Under the staff content security policy (coronacheck/staff.py) plus the CDN the UIs load
    # from. Swagger UI's start script is served as a file (the split view), so no inline script;
    # both pages carry a small inline <style> block and the UIs set style attributes.
    docs_policy = csp_update(
        {
            "script-src": [DOCS_CDN],
            "style-src": [DOCS_CDN, "https://fonts.googleapis.com", "'unsafe-inline'"],
            "font-src": ["https://fonts.gstatic.com"],
            "img-src": [DOCS_CDN],
            "worker-src": ["blob:"],
        }
    )
    urlpatterns += [
        path("docs", docs_policy(SpectacularSwaggerSplitView.as_view(url_name="openapi")), name="docs"),
        path("redoc", docs_policy(SpectacularRedocView.as_view(url_name="openapi")), name="redoc"),
    ]

handler404 = "api.exceptions.not_found"
handler500 = "api.exceptions.server_error"
