from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from imagetasks.dashboard import health
from imagetasks.dashboard.api import site as api
from imagetasks.dashboard.metrics import endpoint as metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api.urlpatterns())),
    path("", include("imagetasks.dashboard.urls")),
]
if settings.LOCALCLOUD_ENABLED:
    urlpatterns.insert(-1, path("localcloud/", include("imagetasks.localcloud.urls")))
