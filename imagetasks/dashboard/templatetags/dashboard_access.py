"""Access checks for templates, so buttons only appear for those who may use them."""

from django import template

from imagetasks.dashboard import access

register = template.Library()


@register.filter
def can_submit(user) -> bool:
    return access.can_submit(user)
