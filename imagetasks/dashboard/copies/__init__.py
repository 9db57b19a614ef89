"""Copying an image to another cloud or region: export here, stream the object, import there.

``service`` starts a copy (the user's one action), ``sweep`` finds copies with a
step due and hands them to jobs, ``machine`` advances one copy a step at a
time under a lease, and ``transfer`` streams the exported object between
the two object stores. A copy's statuses are in the status map
(``imagetasks.dashboard.statuses``), beside the tasks'.
"""
