"""gunicorn's access log without the live parts' unchanged refreshes.

Every open task table asks every few seconds whether anything changed, and an
unchanged answer is an empty 204; logging each one would bury the requests
people look for. Everything else is logged as gunicorn logs it.
"""

from __future__ import annotations

from gunicorn.glogging import Logger


class AccessLogWithoutIdlePolls(Logger):
    def access(self, resp, req, environ, request_time):
        if str(resp.status).startswith("204") and environ.get("REQUEST_METHOD") == "GET":
            return
        super().access(resp, req, environ, request_time)
