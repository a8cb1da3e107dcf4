"""The conversation store's memory backend: per owner, expiring, bounded in size."""

from __future__ import annotations

from core.conversations import MemoryConversationStore, build_conversation_store


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_record_is_its_owners_only_and_can_be_deleted():
    store = MemoryConversationStore(ttl_s=60, max_bytes=1000)
    assert store.put("app", "resp_1", {"a": 1})
    assert store.get("app", "resp_1") == {"a": 1}
    assert store.get("other", "resp_1") is None
    assert not store.delete("other", "resp_1")
    assert store.delete("app", "resp_1") and store.get("app", "resp_1") is None


def test_records_expire():
    clock = Clock()
    store = MemoryConversationStore(ttl_s=60, max_bytes=1000, clock=clock)
    store.put("app", "resp_1", {"a": 1})
    clock.now = 59.9
    assert store.get("app", "resp_1") == {"a": 1}
    clock.now = 60
    assert store.get("app", "resp_1") is None


def test_a_record_too_large_is_not_kept_and_the_oldest_go_first():
    store = MemoryConversationStore(ttl_s=60, max_bytes=100, total_bytes=250)
    assert not store.put("app", "big", {"text": "x" * 200})
    assert store.get("app", "big") is None
    for n in range(4):
        assert store.put("app", f"r{n}", {"text": "x" * 60})
    assert store.get("app", "r0") is None and store.get("app", "r3") is not None


def test_redis_when_redis_url_is_set():
    assert build_conversation_store(None, 60, 100).kind == "memory"
    assert build_conversation_store("redis://127.0.0.1:1/0", 60, 100).kind == "redis"
