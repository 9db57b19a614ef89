"""Static files are served by their hashed names with a year's cache lifetime, so pages
never revalidate their CSS and JS (and a release changes the names)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_pages_name_their_css_and_js_by_hashed_names_cached_for_a_year(client):
    html = client.get("/accounts/login/").content.decode()
    css = re.search(r'href="(/static/css/imagetasks\.[0-9a-f]{12}\.css)"', html)
    js = re.search(r'src="(/static/js/imagetasks\.[0-9a-f]{12}\.js)"', html)
    assert css and js, "the page names its files without a content hash"
    for path in (css.group(1), js.group(1)):
        response = client.get(path)
        assert response.status_code == 200
        assert "max-age=31536000" in response["Cache-Control"]
        assert "immutable" in response["Cache-Control"]
        b"".join(response.streaming_content)
        response.close()
