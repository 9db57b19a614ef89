from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from imagetasks.dashboard import health
from imagetasks.dashboard.api import site as api
from imagetasks.dashboard.metrics import endpoint as metrics
from imagetasks.dashboard.signin import views as signin

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    # Ours before Django's: the login page with the provider's button, and a logout that
    # ends the provider's session too.
    path("accounts/login/", signin.LoginPage.as_view(), name="login"),
    path("accounts/logout/", signin.log_out, name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/authenticate/", signin.SignInStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", signin.SignInCallback.as_view(), name="oidc_authentication_callback"),
    path("admin/login/", signin.admin_login),
    path("admin/", admin.site.urls),
    path("api/", include(api.urlpatterns())),
    path("", include("imagetasks.dashboard.urls")),
]
if settings.LOCALCLOUD_ENABLED:
    urlpatterns.insert(-1, path("localcloud/", include("imagetasks.localcloud.urls")))
