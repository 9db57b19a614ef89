from django.urls import re_path

from imagetasks.localcloud.objectstore import views

# Everything after /v1/ goes to one view, which splits it from the raw path
# bytes: object names may hold any character, newlines and "//" included.
urlpatterns = [
    re_path(r"^v1/(?P<rest>[\s\S]*)$", views.dispatch, name="object-store"),
]
