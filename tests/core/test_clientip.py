from __future__ import annotations

from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from krov.core.clientip import client_address

ips = st.ip_addresses().map(str)


def request_with(remote: str, xff: str | None):
    headers = {"REMOTE_ADDR": remote}
    if xff is not None:
        headers["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **headers)


@given(remote=ips, forged=st.lists(ips, max_size=5))
@override_settings(KROV_TRUSTED_PROXIES=0)
def test_without_trusted_proxies_forwarded_for_is_ignored(remote, forged):
    assert client_address(request_with(remote, ", ".join(forged) or None)) == remote


@given(
    proxy=ips,
    real=ips,
    forged=st.lists(
        st.one_of(ips, st.text(max_size=20).filter(lambda s: "," not in s)), max_size=6
    ),
)
@override_settings(KROV_TRUSTED_PROXIES=1)
def test_forged_entries_left_of_the_trusted_proxy_never_win(proxy, real, forged):
    xff = ", ".join([*forged, real])
    assert client_address(request_with(proxy, xff)) == real


def test_two_trusted_proxies_take_the_second_from_the_right(settings):
    settings.KROV_TRUSTED_PROXIES = 2
    request = request_with("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.1")
    assert client_address(request) == "203.0.113.9"


def test_too_few_hops_falls_back_to_the_socket_address(settings):
    settings.KROV_TRUSTED_PROXIES = 2
    assert client_address(request_with("10.0.0.2", "203.0.113.9")) == "10.0.0.2"
    assert client_address(request_with("10.0.0.2", None)) == "10.0.0.2"
