from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "imagetasks.dashboard"
    label = "dashboard"
    verbose_name = "Image tasks"

    def ready(self) -> None:
        from imagetasks.dashboard import heartbeat  # noqa: F401  (connects Celery signals)
