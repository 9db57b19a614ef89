"""Keeping the dashboard's own machinery in shape, apart from any cloud.

``heartbeat`` records that beat and a worker are alive, for ``/healthz``;
``planner_stats`` keeps SQLite's query planner informed; ``search_index`` keeps
the task search's trigram index. Their periodic jobs are in ``dashboard.jobs``.
"""
