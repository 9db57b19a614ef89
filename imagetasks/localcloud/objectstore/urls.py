from django.urls import path, re_path

from imagetasks.localcloud.objectstore import limits, views

# Everything after /v1/ goes to one view, which splits it from the raw path
# bytes: object names may hold any character, newlines and "//" included.
urlpatterns = [
    path("info", limits.info, name="object-store-info"),
    re_path(r"^v1/(?P<rest>[\s\S]*)$", views.dispatch, name="object-store"),
]
