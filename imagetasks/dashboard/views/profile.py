"""A person's own settings: whether finished and stale tasks they submitted email them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from imagetasks.dashboard.models import Profile
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


@require_http_methods(["GET", "POST"])
def profile(request: Request) -> HttpResponse:
    """Shows and saves the settings; the row is created on the first save only."""
    current = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    # An unticked box sends nothing: an empty POST is still a submitted form.
    data = request.POST if request.method == "POST" else None
    form = ProfileForm(data, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your settings are saved.")
        return redirect("dashboard:profile")
    return render(request, "dashboard/profile.html", {"form": form})
