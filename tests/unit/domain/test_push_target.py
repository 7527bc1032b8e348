"""A push receiver's endpoint URL and signing secret: which are accepted, and which rule a bad
one breaks."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, TypeAdapter, ValidationError
from standardwebhooks import Webhook

from app.domain.push_target import (
    MAX_ENDPOINT_URL_LENGTH,
    EndpointUrl,
    SigningSecret,
    new_signing_secret,
)
from tests.factories import SIGNING_SECRET

ENDPOINT_URL = TypeAdapter(EndpointUrl)
SECRET = TypeAdapter(SigningSecret)


def url_rule(url: str) -> str:
    """The rule `url` breaks."""
    with pytest.raises(ValidationError) as caught:
        ENDPOINT_URL.validate_python(url)
    [error] = caught.value.errors()
    return error["type"]


def secret_rule(secret: str) -> str:
    """The rule `secret` breaks."""
    with pytest.raises(ValidationError) as caught:
        SECRET.validate_python(secret)
    [error] = caught.value.errors()
    assert secret not in error["msg"]  # a near miss may be the real secret, mistyped
    return error["type"]


def b64(size: int) -> str:
    return base64.b64encode(bytes(range(size))).decode("ascii")


class TestEndpointUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "https://genoptraening.odense.dk/sektorbro",
            "https://genoptraening.odense.dk:8443/in?tenant=461",
            "http://127.0.0.1:8080/push",
            "http://127.10.0.5/push",
            "http://[::1]:8080/push",
        ],
    )
    def test_https_anywhere_and_http_to_a_loopback_address_are_accepted(self, url: str) -> None:
        assert str(ENDPOINT_URL.validate_python(url)) == url

    def test_http_to_another_host_is_endpoint_url_not_https(self) -> None:
        assert url_rule("http://genoptraening.odense.dk/sektorbro") == "endpoint_url_not_https"

    def test_http_to_localhost_by_name_is_endpoint_url_not_https(self) -> None:
        # A name may resolve anywhere; only an address literal surely stays on the machine.
        assert url_rule("http://localhost:8080/push") == "endpoint_url_not_https"

    def test_an_ipv4_mapped_loopback_is_not_loopback(self) -> None:
        assert url_rule("http://[::ffff:127.0.0.1]/push") == "endpoint_url_not_https"

    def test_another_scheme_is_url_scheme(self) -> None:
        assert url_rule("ftp://genoptraening.odense.dk/in") == "url_scheme"

    def test_credentials_in_the_url_are_endpoint_url_credentials(self) -> None:
        assert url_rule("https://user:pw@genoptraening.odense.dk/in") == "endpoint_url_credentials"

    def test_a_fragment_is_endpoint_url_fragment(self) -> None:
        assert url_rule("https://genoptraening.odense.dk/in#top") == "endpoint_url_fragment"

    def test_a_url_at_the_length_limit_is_accepted(self) -> None:
        base = "https://genoptraening.odense.dk/"
        url = base + "a" * (MAX_ENDPOINT_URL_LENGTH - len(base))

        assert str(ENDPOINT_URL.validate_python(url)) == url

    def test_a_url_over_the_length_limit_is_endpoint_url_too_long(self) -> None:
        base = "https://genoptraening.odense.dk/"
        url = base + "a" * (MAX_ENDPOINT_URL_LENGTH - len(base) + 1)

        assert url_rule(url) == "endpoint_url_too_long"

    def test_text_that_is_no_url_is_url_parsing(self) -> None:
        assert url_rule("genoptraening at odense") == "url_parsing"


class TestSigningSecret:
    @pytest.mark.parametrize("size", [24, 32, 64])
    def test_whsec_and_24_to_64_bytes_of_base64_are_accepted(self, size: int) -> None:
        secret = "whsec_" + b64(size)

        assert SECRET.validate_python(secret).get_secret_value() == secret

    def test_the_specification_example_is_accepted(self) -> None:
        assert SECRET.validate_python(SIGNING_SECRET).get_secret_value() == SIGNING_SECRET

    @pytest.mark.parametrize(
        "secret",
        [
            b64(32),  # no prefix
            "whsec_" + b64(23),
            "whsec_" + b64(65),
            "whsec_not base64!",
        ],
    )
    def test_anything_else_is_signing_secret_format(self, secret: str) -> None:
        assert secret_rule(secret) == "signing_secret_format"


class TestNewSigningSecret:
    def test_is_a_valid_secret(self) -> None:
        secret = new_signing_secret()

        assert SECRET.validate_python(secret) == SecretStr(secret)

    def test_is_new_each_time(self) -> None:
        assert new_signing_secret() != new_signing_secret()

    def test_standardwebhooks_signs_with_the_key_the_secret_encodes(self) -> None:
        # The push worker signs with the package; a receiver computes the HMAC per the
        # specification from the same secret. Both must read the secret alike.
        secret = new_signing_secret()
        timestamp = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)

        signature = Webhook(secret).sign("delivery-1", timestamp, "<Emessage/>")

        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"delivery-1.{int(timestamp.timestamp())}.<Emessage/>".encode()
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert signature == f"v1,{expected}"
