"""A WSGI filter that stands in for Keystone in front of Glance's ``context`` filter.

This module runs inside Glance's own virtualenv (uWSGI imports it through the paste
pipeline), so it uses the standard library only and imports nothing from the harness.

Glance trusts the identity headers that keystonemiddleware would set. Without Keystone,
this filter sets them for every request, so Glance builds a real project-scoped context
and applies its policies to it. Who the caller is comes from, in order:

1. ``X-Test-Project``, ``X-Test-Roles`` and ``X-Test-User`` headers (for raw requests);
2. an ``X-Auth-Token`` of the form ``project=P&roles=member,reader&user=U`` (for the
   project's client, which can only send a token);
3. the defaults given in the paste config.

Whatever identity headers the client sent itself are replaced, as keystonemiddleware does.
"""

from urllib.parse import parse_qs

_IDENTITY_HEADERS = (
    "HTTP_X_IDENTITY_STATUS",
    "HTTP_X_PROJECT_ID",
    "HTTP_X_TENANT_ID",
    "HTTP_X_USER_ID",
    "HTTP_X_ROLES",
    "HTTP_X_ROLE",
    "HTTP_X_SERVICE_CATALOG",
)


def _from_token(token):
    """The identity a test token names; a token of any other shape names none."""
    if "=" not in token:
        return {}
    fields = parse_qs(token, keep_blank_values=True)
    return {
        key: values[-1] for key, values in fields.items() if key in ("project", "roles", "user")
    }


class StandInIdentity:
    def __init__(self, app, project, roles, user):
        self.app = app
        self.defaults = {"project": project, "roles": roles, "user": user}

    def __call__(self, environ, start_response):
        identity = dict(self.defaults)
        identity.update(_from_token(environ.get("HTTP_X_AUTH_TOKEN", "")))
        for key in ("project", "roles", "user"):
            value = environ.get(f"HTTP_X_TEST_{key.upper()}")
            if value is not None:
                identity[key] = value
        for header in _IDENTITY_HEADERS:
            environ.pop(header, None)
        environ["HTTP_X_IDENTITY_STATUS"] = "Confirmed"
        environ["HTTP_X_PROJECT_ID"] = identity["project"]
        environ["HTTP_X_USER_ID"] = identity["user"]
        environ["HTTP_X_ROLES"] = identity["roles"]
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    project = local_conf.get("default_project", "project-a")
    roles = local_conf.get("default_roles", "member,reader")
    user = local_conf.get("default_user", "user-a")

    def make(app):
        return StandInIdentity(app, project, roles, user)

    return make
