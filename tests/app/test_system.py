"""/health and FC's lifecycle hooks."""

from __future__ import annotations

import dataclasses

from app import create_app


# That /health never shows the key is in test_observability.py, with every other secret.
def test_health_says_a_key_is_configured(client, emulator):
    emulator.clear()
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["api_key_configured"] is True
    assert body["default_model"] == "qwen-plus"
    assert body["invoke_mode"] == "messages"
    assert emulator.history == []  # no upstream call


def test_health_without_a_key(config):
    body = create_app(dataclasses.replace(config, dashscope_api_key=None)).test_client().get("/health").get_json()
    assert body["api_key_configured"] is False


def test_initialize_and_pre_stop(client):
    assert client.post("/initialize", data=b"").status_code == 200
    assert client.get("/pre-stop").status_code == 200


def test_lifecycle_hooks_act_only_when_fc_calls_them(app, client):
    from web.services import services

    with app.app_context():
        upstream = services().upstream
    ignored = client.post("/initialize")
    assert ignored.status_code == 200 and ignored.get_json()["status"] == "ignored"
    assert upstream._session is None  # nothing was done
    assert client.get("/pre-stop").get_json()["status"] == "ignored"

    assert client.post("/initialize", headers={"x-fc-control-path": "/initialize"}).get_json()["status"] == "initialized"
    assert upstream._session is not None
    assert client.get("/pre-stop", headers={"x-fc-control-path": "/pre-stop"}).get_json()["status"] == "stopping"
    # FC's mark for one hook does not open the other.
    assert client.get("/pre-stop", headers={"x-fc-control-path": "/initialize"}).get_json()["status"] == "ignored"


