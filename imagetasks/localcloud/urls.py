from django.urls import include, path

app_name = "localcloud"

urlpatterns = [
    path("identity/", include("imagetasks.localcloud.identity.urls")),
    path("object/", include("imagetasks.localcloud.objectstore.urls")),
    path("image/", include("imagetasks.localcloud.images.urls")),
]
