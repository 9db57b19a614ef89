"""A person's own settings: whether finished and stale tasks they submitted email them,
and their API tokens (made here, shown once, revoked here)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from imagetasks.dashboard.api import tokens
from imagetasks.dashboard.models import ApiToken, Profile
from imagetasks.dashboard.views.common import Request


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["email_on_completion"]
        labels = {"email_on_completion": "Email me when a task I submitted finishes"}
        help_texts = {
            "email_on_completion": "Success or failure, and when a task is flagged stale. "
            "Tasks found on the cloud (not submitted here) never send email."
        }


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=tokens.NAME_MAX,
        help_text="What the token is for (a script, a host), to tell your tokens apart.",
    )


def _page(request: Request, form: ProfileForm, token_form: TokenForm, **extra) -> HttpResponse:
    context = {
        "form": form,
        "token_form": token_form,
        "tokens": ApiToken.objects.filter(user=request.user),
        **extra,
    }
    return render(request, "dashboard/profile.html", context)


def _settings(request: Request) -> Profile:
    return Profile.objects.filter(user=request.user).first() or Profile(user=request.user)


@require_http_methods(["GET", "POST"])
def profile(request: Request) -> HttpResponse:
    """Shows and saves the settings; the row is created on the first save only."""
    # An unticked box sends nothing: an empty POST is still a submitted form.
    data = request.POST if request.method == "POST" else None
    form = ProfileForm(data, instance=_settings(request))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your settings are saved.")
        return redirect("dashboard:profile")
    return _page(request, form, TokenForm())


@require_POST
def create_token(request: Request) -> HttpResponse:
    """A new API token, shown in this answer only: it is not kept in clear anywhere, so
    the page is not a redirect (which would have to carry it) and is never cached."""
    token_form = TokenForm(request.POST)
    settings_form = ProfileForm(instance=_settings(request))
    if not token_form.is_valid():
        return _page(request, settings_form, token_form)
    value, token = tokens.issue(request.user, token_form.cleaned_data["name"])
    response = _page(request, settings_form, TokenForm(), new_token=value, new_token_row=token)
    add_never_cache_headers(response)
    return response


@require_POST
def revoke_token(request: Request, token_id: int) -> HttpResponse:
    """Revoke one of the person's own tokens (another person's is a 404)."""
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if tokens.revoke(ApiToken.objects.filter(pk=token.pk)):
        messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    else:
        messages.info(request, f"The token “{token.name}” was already revoked.")
    return redirect("dashboard:profile")
