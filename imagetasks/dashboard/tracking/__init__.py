"""Following remote tasks: submission, polling, snapshots, expiry, discovery.

Jobs (``imagetasks.dashboard.jobs``) and views call these modules; they reach
clouds only through ``imagetasks.openstack``.
"""
