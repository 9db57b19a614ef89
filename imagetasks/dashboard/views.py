from django.shortcuts import render


def home(request):
    """The task table. Until tasks exist it explains how to start one."""
    return render(request, "dashboard/home.html", {"tasks": []})
