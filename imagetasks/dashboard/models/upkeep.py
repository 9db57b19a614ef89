from __future__ import annotations

from django.db import models


class Upkeep(models.Model):
    """A periodic chore that must run alone: its lease, and how its last run ended.

    One row per chore, made on its first run. Beat may send the job twice (two beats,
    or a tick redelivered), and it runs for a while: the job claims the row with
    ``leases.claim_due`` and renews it as it goes, so a second run finds it held and
    does nothing, and a run lost with its worker frees it when the lease runs out.
    """

    name = models.CharField(max_length=40, primary_key=True)
    claim = models.PositiveBigIntegerField(default=0, help_text="Fencing token of the holder.")
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "upkeep chore"

    def __str__(self) -> str:
        return self.name
