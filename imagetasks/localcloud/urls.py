from django.urls import include, path

from imagetasks.localcloud.images import version_views
from imagetasks.localcloud.images.urls import region_urlpatterns

app_name = "localcloud"

urlpatterns = [
    path("identity/", include("imagetasks.localcloud.identity.urls")),
    path("object/", include("imagetasks.localcloud.objectstore.urls")),
    # Without the slash too: keystoneauth discovers versions at the catalog URL as given,
    # and cannot follow Django's relative slash redirect.
    path("image", version_views.root),
    path("image/", include("imagetasks.localcloud.images.urls")),
    # An extra region's Images endpoint, for the projects whose catalog lists the region.
    path("regions/<str:region>/image", version_views.root),
    path("regions/<str:region>/image/", include(region_urlpatterns)),
]
