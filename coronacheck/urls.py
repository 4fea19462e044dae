"""URL configuration (api.md §2). Paths are exact; POSTs without the slash get a 307 from
`api.middleware.ApiMiddleware`."""

from django.conf import settings
from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import apis
from api.metrics import metrics_view
from signing import dashboard

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
    urlpatterns += [
        path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
        path("redoc", SpectacularRedocView.as_view(url_name="openapi"), name="redoc"),
    ]

handler404 = "api.exceptions.not_found"
handler500 = "api.exceptions.server_error"
