"""Error reports that cannot show a secret, whatever code they pass through.

Django's debug page and error emails show each frame's local variables. The cloud
client (``imagetasks.openstack``, which may not import Django, so cannot use
``sensitive_variables``), the code that encrypts cloud secrets and signs webhooks,
signing in with the OpenID Connect provider (ours and mozilla-django-oidc's: the
client's secret, codes and tokens) and the built-in cloud's identity service all hold
passwords, API keys or tokens in their locals; a crash anywhere below them would print
them. Their frames' variables are hidden here, by module, so no function can be
forgotten; code elsewhere that holds a secret uses ``sensitive_variables`` as usual.
"""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter

SECRET_HOLDERS = (
    "imagetasks.openstack.",
    "imagetasks.dashboard.clouds.secretbox",
    "imagetasks.dashboard.clouds.clients",
    "imagetasks.dashboard.notifications.signing",
    "imagetasks.dashboard.notifications.webhook",
    "imagetasks.dashboard.signin.",
    "mozilla_django_oidc.",
    "imagetasks.localcloud.identity.",
    "imagetasks.localcloud.models.identity",
)


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request, tb_frame):
        module = tb_frame.f_globals.get("__name__", "")
        if module.startswith(SECRET_HOLDERS):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
