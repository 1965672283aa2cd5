"""Access rules of the dashboard, without a server."""

from __future__ import annotations

import pytest

from laicai.errors import ConfigError
from laicai.web.security import (
    AccessPolicy,
    check_bind,
    host_header_name,
    is_loopback,
    tokens_equal,
)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost",
                                  "LOCALHOST", "ip6-localhost", "::ffff:127.0.0.1"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.0.2", "10.1.2.3", "8.8.8.8",
                                  "fe80::1", "example.com", "localhost.example.com",
                                  "127.0.0.1.nip.io"])
def test_other_addresses(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:8080", "127.0.0.1"), ("localhost", "localhost"), ("[::1]:8080", "::1"),
    ("[::1]", "::1"), ("example.com:443", "example.com"), ("::1", "::1"),
])
def test_host_header_name(header: str, name: str) -> None:
    assert host_header_name(header) == name


def test_check_bind_names_the_key_and_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        check_bind("0.0.0.0", None)
    message = str(raised.value)
    assert "web.host" in message and "'0.0.0.0'" in message and "LAICAI_WEB_TOKEN" in message
    assert raised.value.problems[0].startswith("web.host")
    check_bind("0.0.0.0", "a-token")
    check_bind("127.0.0.1", None)


def test_tokens_compare_exactly() -> None:
    assert tokens_equal("s3cr3t-token", "s3cr3t-token")
    for other in ("s3cr3t-toke", "s3cr3t-tokenx", "S3CR3T-TOKEN", "", "s3cr3t-token "):
        assert not tokens_equal(other, "s3cr3t-token")
    assert tokens_equal("密码", "密码")


def test_policy() -> None:
    local = AccessPolicy(host="127.0.0.1", token=None)
    assert not local.public and not local.controls_enabled
    assert local.host_allowed("localhost:8080") and local.host_allowed("127.0.0.1")
    assert not local.host_allowed("attacker.example:8080") and not local.host_allowed(None)
    public = AccessPolicy(host="0.0.0.0", token="t0k3n-t0k3n")
    assert public.public and public.controls_enabled
    assert public.host_allowed("anything.example")  # the token guards a public address
    with pytest.raises(ConfigError):
        AccessPolicy(host="10.0.0.1", token=None)
