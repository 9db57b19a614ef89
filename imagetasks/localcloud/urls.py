from django.urls import include, path

from imagetasks.localcloud.images import version_views

app_name = "localcloud"

urlpatterns = [
    path("identity/", include("imagetasks.localcloud.identity.urls")),
    path("object/", include("imagetasks.localcloud.objectstore.urls")),
    # Without the slash too: keystoneauth discovers versions at the catalog URL as given,
    # and cannot follow Django's relative slash redirect.
    path("image", version_views.root),
    path("image/", include("imagetasks.localcloud.images.urls")),
]
