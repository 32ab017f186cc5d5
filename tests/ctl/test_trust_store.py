"""Components find the system CAs lazily, unless the user chose a CA bundle themselves."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

import pytest

from kwok.ctl.runtime import process


@pytest.fixture
def no_user_setting(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    process.lazy_trust_store.cache_clear()
    yield
    process.lazy_trust_store.cache_clear()


def test_the_users_own_bundle_is_kept(monkeypatch: pytest.MonkeyPatch, no_user_setting: None) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/my-company-ca.pem")
    assert process.lazy_trust_store() == {}


def test_naming_the_default_bundle_is_no_choice_of_ones_own(monkeypatch: pytest.MonkeyPatch,
                                                           no_user_setting: None) -> None:
    expected = process.lazy_trust_store()
    process.lazy_trust_store.cache_clear()
    monkeypatch.setenv("SSL_CERT_FILE", ssl.get_default_verify_paths().openssl_cafile)
    assert process.lazy_trust_store() == expected


def test_system_cas_come_from_the_hashed_directory(no_user_setting: None) -> None:
    capath = ssl.get_default_verify_paths().openssl_capath
    env = process.lazy_trust_store()
    if not env:
        pytest.skip(f"no hashed CA directory at {capath}")
    assert env == {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": capath}
    # A default context then loads nothing up front (OpenSSL looks a CA up in the hashed
    # directory by subject hash when a verification needs it).
    probe = ("import ssl, glob\n"
             "ctx = ssl.create_default_context()\n"
             "print(len(ctx.get_ca_certs()))\n")
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **env}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["0"]
