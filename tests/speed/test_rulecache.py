"""The compiled rules kept in .git/svcdesk/rules.pickle (speed.rulecache)."""

import pytest


def test_compiled_rules_are_cached_and_a_changed_or_damaged_cache_is_rebuilt(desk):
    from svcdesk.app.desk import Desk

    cache = desk.state.rules_cache
    assert cache.exists() and Desk(desk.root).rules.name == "示例售后服务台"
    rules = desk.root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "name: 示例售后服务台", "name: 华东售后服务台", 1), encoding="utf-8")
    assert Desk(desk.root).rules.name == "华东售后服务台"  # the text changed: compiled again
    cache.write_bytes(cache.read_bytes()[:80] + b"\x00 damaged")
    assert Desk(desk.root).rules.name == "华东售后服务台"
    assert cache.read_bytes().startswith(b"svcdesk-rules:")
    rules.write_text("desk: [\n", encoding="utf-8")  # a broken file is never hidden by a cache
    with pytest.raises(Exception, match="rules.yaml"):
        Desk(desk.root)
