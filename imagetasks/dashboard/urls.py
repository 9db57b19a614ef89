from django.urls import path

from imagetasks.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
]
