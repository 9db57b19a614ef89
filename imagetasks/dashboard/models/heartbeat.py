from django.db import models


class Heartbeat(models.Model):
    """When a long-running part (worker, beat) last proved it was alive.

    One row per part, overwritten in place: /healthz compares ``last_seen``
    with ``HEARTBEAT_MAX_AGE``.
    """

    part = models.CharField(max_length=40, primary_key=True)
    last_seen = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "heartbeat"

    def __str__(self) -> str:
        return f"{self.part} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
