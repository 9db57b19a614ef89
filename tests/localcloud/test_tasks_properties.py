"""Whatever a client sends to the tasks API, the answer is a deliberate one, never a 500.

Hypothesis generates task bodies, content types and list query strings. The
requests go through Django's test client rather than the live server, so
hundreds of them take seconds; the views, middleware and database are the
same. Inside the test's transaction no job is ever sent (on_commit does not
fire), so created tasks just stay pending.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagetasks.localcloud.images.schemas import TASK_STATUSES

pytestmark = pytest.mark.usefixtures("fast_hashing")

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DETAIL_KEYS = {"id", "type", "status", "input", "result", "owner", "message"}
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
input_keys = st.sampled_from(
    [
        "import_from",
        "image_properties",
        "import_from_format",
        "image_uuid",
        "receiving_swift_container",
    ]
)
task_inputs = st.dictionaries(
    input_keys | text,
    json_values | st.sampled_from(["imports/disk.vhd", "exports", "a/b/c", "/x", "x/"]),
    max_size=4,
)
task_bodies = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["import", "export", "resize", "", 5]) | json_values,
        "input": task_inputs | json_values,
        "status": json_values,
        "id": json_values,
        "owner": text,
        "extra": json_values,
    },
)


@pytest.fixture
def api(client, account):
    """Django's test client with the account's token and a JSON Accept."""
    token = account.token()

    def call(method: str, path: str, **kwargs):
        kwargs.setdefault("HTTP_ACCEPT", "application/json")
        return getattr(client, method)(
            f"/localcloud/image/{path}", HTTP_X_AUTH_TOKEN=token, **kwargs
        )

    return call


@EXAMPLES
@given(body=task_bodies | json_values)
def test_any_json_body_is_a_201_or_a_400_with_a_message(api, body):
    response = api("post", "v2/tasks", data=json.dumps(body), content_type="application/json")

    assert response.status_code in (201, 400), response.content
    answer = response.json()
    if response.status_code == 400:
        assert answer["message"]
    else:
        assert DETAIL_KEYS <= set(answer)
        assert answer["status"] == "pending"
        assert api("get", f"v2/tasks/{answer['id']}").json() == answer


@EXAMPLES
@given(
    raw=st.binary(max_size=200) | text.map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/octet-stream", "application/json; x=1"]
    ),
)
def test_any_bytes_are_a_201_400_or_415(api, raw, content_type):
    response = api("post", "v2/tasks", data=raw, content_type=content_type)

    assert response.status_code in (201, 400, 415), response.content


list_params = st.dictionaries(
    st.sampled_from(["limit", "marker", "sort_key", "sort_dir", "status", "type", "id", "owner"])
    | text,
    st.sampled_from(
        ["", "0", "3", "-1", "1.5", "asc", "desc", "created_at", "status", *TASK_STATUSES]
    )
    | text,
    max_size=5,
)


@EXAMPLES
@given(params=list_params)
def test_any_list_query_is_a_200_page_or_a_400(api, params):
    response = api("get", f"v2/tasks?{urlencode(params)}")

    assert response.status_code in (200, 400), response.content
    body = response.json()
    if response.status_code == 200:
        assert set(body) <= {"tasks", "first", "next", "schema"}
        assert body["first"].startswith("/v2/tasks")
    else:
        assert body["message"]


@EXAMPLES
@given(task_id=text)
def test_any_task_id_is_a_404_with_a_message(api, task_id):
    response = api("get", f"v2/tasks/{task_id}".replace("?", "%3F").replace("#", "%23"))

    assert response.status_code == 404
    assert response.json()["message"].startswith("Could not find task")
