from django.urls import re_path

from imagetasks.localcloud.identity import views

# Each path is served with and without its trailing slash: keystoneauth asks
# for the auth URL exactly as configured, and a redirect would turn a POST
# into a GET.
urlpatterns = [
    re_path(r"^$", views.version_list, name="identity-versions"),
    re_path(r"^v3/?$", views.version_v3, name="identity-v3"),
    re_path(r"^v3/auth/tokens/?$", views.v3_tokens, name="identity-v3-tokens"),
    re_path(r"^v2\.0/?$", views.version_v2, name="identity-v2"),
    re_path(r"^v2\.0/tokens/?$", views.v2_tokens, name="identity-v2-tokens"),
]
