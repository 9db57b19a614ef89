"""Telling people and systems that a task finished or went stale: email and webhooks.

``outbox`` writes what is owed in the transaction that records the change and
delivers it from Celery jobs; ``email`` and ``webhook`` are the two channels;
``signing`` is the webhook signature, shared with receivers' documentation.
"""
