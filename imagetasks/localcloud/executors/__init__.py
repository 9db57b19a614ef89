"""The built-in cloud's task executors: real import and export work run by Celery jobs.

``lifecycle`` owns every status change and the recovery of stuck tasks;
``runner`` runs one attempt; ``importer`` and ``exporter`` do the work;
``throttle`` paces it; ``hashing``, ``blobs`` and ``blocking`` keep memory
flat, copies away and the task's claim alive while bytes move; ``dispatch``
sends the jobs.
"""
