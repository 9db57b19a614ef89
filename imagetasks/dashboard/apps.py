from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "imagetasks.dashboard"
    label = "dashboard"
    verbose_name = "Image tasks"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from imagetasks.dashboard.upkeep import (
            heartbeat,  # noqa: F401  (connects Celery signals)
            planner_stats,
            search_index,
        )

        # The search index first: ANALYZE then counts its rows too.
        post_migrate.connect(search_index.ensure_after_migrate, sender=self)
        post_migrate.connect(planner_stats.refresh_after_migrate, sender=self)
        # Registers the check that names `manage.py prepare` when the secret key is missing.
        from imagetasks.dashboard import prepare  # noqa: F401
