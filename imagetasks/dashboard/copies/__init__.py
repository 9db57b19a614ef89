"""Copying an image to another cloud or region: export here, stream the object, import there.

``service`` starts a copy (the user's one action), ``sweep`` finds copies with a
step due and hands them to jobs, ``machine`` advances one copy a step at a
time under a lease, and ``transfer`` streams the exported object between
the two object stores. ``states`` is the copy's status map.
"""
