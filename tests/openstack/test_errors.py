"""HTTP errors become the right class carrying the cloud's own message, whatever body shape
the cloud used. Real HTTP against a scripted server on 127.0.0.1."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagetasks.openstack import (
    BadRequest,
    CloudError,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from imagetasks.openstack.errors import MESSAGE_LIMIT, cloud_message
from tests.openstack.samples import IMAGE_PATH, TASK_ID
from tests.openstack.scripted import Reply

TASK_PATH = f"{IMAGE_PATH}/v2/tasks/{TASK_ID}"

# What webob renders for Glance when the client accepts HTML.
GLANCE_HTML = f"""<html>
 <head>
  <title>404 Not Found</title>
 </head>
 <body>
  <h1>404 Not Found</h1>
  The resource could not be found.<br /><br />
Could not find task {TASK_ID}


 </body>
</html>"""


@pytest.mark.parametrize(
    ("status", "error_class", "outcome_unknown"),
    [
        (400, BadRequest, False),
        (403, Forbidden, False),
        (404, NotFound, False),
        (409, Conflict, False),
        (415, UnsupportedMediaType, False),
        (422, Unprocessable, False),
        (500, ServerError, True),
        (501, ServerError, True),
        (413, CloudError, False),
    ],
)
def test_each_status_maps_to_its_error_class(cloud, client, status, error_class, outcome_unknown):
    cloud.on("DELETE", f"{IMAGE_PATH}/v2/images/x", Reply(status, json={"message": "no"}))

    with pytest.raises(error_class) as caught:
        client.session.request("DELETE", client.images.root + "/v2/images/x")

    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.outcome_unknown is outcome_unknown


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_unavailable(cloud, client, status):
    cloud.on("POST", f"{IMAGE_PATH}/v2/tasks", Reply(status, body="upstream down"))

    with pytest.raises(Unavailable, match="upstream down"):
        client.images.create_task("import", {})


def test_a_glance_json_error_loses_its_trailing_markup_and_keeps_the_request_id(cloud, client):
    body = {
        "message": "The resource could not be found.<br /><br />\n"
        f"Could not find task {TASK_ID}\n\n\n",
        "code": "404 Not Found",
        "title": "Not Found",
    }
    headers = {"x-openstack-request-id": "req-6d2f"}
    cloud.on("GET", TASK_PATH, Reply(404, json=body, headers=headers))

    with pytest.raises(NotFound) as caught:
        client.images.get_task(TASK_ID)

    assert caught.value.message == f"The resource could not be found. Could not find task {TASK_ID}"
    assert str(caught.value) == caught.value.message
    assert caught.value.request_id == "req-6d2f"
    assert '"code": "404 Not Found"' in caught.value.body


def test_an_html_error_page_is_reduced_to_its_text_without_the_repeated_title(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(404, body=GLANCE_HTML, headers={"Content-Type": "text/html"}))

    with pytest.raises(NotFound) as caught:
        client.images.get_task(TASK_ID)

    assert caught.value.message == f"The resource could not be found. Could not find task {TASK_ID}"


def test_a_plain_text_error_drops_its_status_line(cloud, client):
    body = "400 Bad Request\n\nTask 'input' is required\n\n   "
    cloud.on("POST", f"{IMAGE_PATH}/v2/tasks", Reply(400, body=body))

    with pytest.raises(BadRequest) as caught:
        client.images.create_task("import", {})

    assert caught.value.message == "Task 'input' is required"


def test_an_empty_error_body_gives_the_status_line(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(409))

    with pytest.raises(Conflict) as caught:
        client.images.get_task(TASK_ID)

    assert caught.value.message == "409 Conflict"


def test_a_utf8_error_without_charset_is_not_read_as_latin1(cloud, client):
    body = "Aucune tâche « 7 »".encode()
    cloud.on("GET", TASK_PATH, Reply(404, body=body, headers={"Content-Type": "text/plain"}))

    with pytest.raises(NotFound, match="Aucune tâche « 7 »"):
        client.images.get_task(TASK_ID)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"message": "Invalid sort direction: up"}', "Invalid sort direction: up"),
        (
            '{"error": {"code": 400, "message": "Invalid input", "title": "Bad Request"}}',
            "Invalid input",
        ),
        ('{"badRequest": {"code": 400, "message": "Invalid JSON"}}', "Invalid JSON"),
        ('{"itemNotFound": {"message": "Not here", "code": 404}}', "Not here"),
        ('{"error": "invalid_grant"}', "invalid_grant"),
        ("{not json", "{not json"),
        ("  \n ", "400 Bad Request"),
        ("400 Bad Request", "400 Bad Request"),
        ("400 Bad Request: 400 Bad Request: body missing", "body missing"),
        ("4001 ways to fail", "4001 ways to fail"),
        ("<p>a &amp; b</p>", "a & b"),
    ],
)
def test_the_cloud_message_is_found_in_every_body_shape(body, message):
    assert cloud_message(body, 400, "Bad Request") == message


@given(st.text(), st.integers(min_value=400, max_value=599))
def test_finding_the_message_never_fails_and_stays_short(body, status):
    message = cloud_message(body, status, "Reason")

    assert message
    assert len(message) <= MESSAGE_LIMIT


def test_retry_after_is_kept_on_a_rate_limit(cloud, client):
    cloud.on("POST", f"{IMAGE_PATH}/v2/tasks", Reply(429, headers={"Retry-After": "12"}))

    with pytest.raises(RateLimited) as caught:
        client.images.create_task("import", {})

    assert caught.value.retry_after == 12


def test_errors_survive_pickling_with_their_details():
    error = NotFound("gone", status=404, request_id="req-1", body="{}")

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert (type(copy), copy.message, copy.status, copy.request_id, copy.body) == (
        NotFound,
        "gone",
        404,
        "req-1",
        "{}",
    )
    assert copy.outcome_unknown is False
