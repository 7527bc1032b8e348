"""Where a push receiver is reached and how it recognises our deliveries: its endpoint URL and
the signing secret of the Standard Webhooks specification (https://www.standardwebhooks.com).

Pure types and one generator; imports nothing from `app` outside the domain.
"""

import base64
import binascii
import ipaddress
import secrets
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, HttpUrl, SecretStr, UrlConstraints
from pydantic_core import PydanticCustomError
from standardwebhooks import Webhook

__all__ = [
    "MAX_ENDPOINT_URL_LENGTH",
    "SECRET_PREFIX",
    "EndpointUrl",
    "SigningSecret",
    "check_endpoint_url",
    "check_signing_secret",
    "new_signing_secret",
]

# Standard Webhooks, "Signature scheme": a symmetric secret is `whsec_` followed by the
# base64 of 24 to 64 random bytes.
SECRET_PREFIX = "whsec_"
_SECRET_BYTES_MIN, _SECRET_BYTES_MAX = 24, 64
# What we generate: 32 bytes, the size of the HMAC-SHA256 key block's output.
_NEW_SECRET_BYTES = 32

# Far above any real endpoint, well below what proxies and HTTP libraries refuse (~8 KB).
MAX_ENDPOINT_URL_LENGTH = 2000


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        # A name, even "localhost", may resolve anywhere; only an address literal is proven
        # to stay on this machine.
        return False


def _check_length(value: object) -> object:
    # Before parsing, so that a long URL is named as such whatever else is wrong with it.
    if isinstance(value, str) and len(value) > MAX_ENDPOINT_URL_LENGTH:
        raise PydanticCustomError(
            "endpoint_url_too_long",
            "The endpoint URL may be at most {max_length} characters.",
            {"max_length": MAX_ENDPOINT_URL_LENGTH},
        )
    return value


def check_endpoint_url(url: HttpUrl) -> HttpUrl:
    """An endpoint we may POST patient data to: https, or plain http to a loopback address
    (tests and sandboxes), without credentials or a fragment."""
    if url.scheme != "https" and not (url.host and _is_loopback(url.host)):
        # Messages carry CPR numbers and health data: only TLS protects them on a network.
        raise PydanticCustomError(
            "endpoint_url_not_https",
            "The endpoint URL must use https (http only to 127.0.0.0/8 or ::1).",
        )
    if url.username is not None or url.password is not None:
        # A URL is shown to admins and written to logs; a credential in it would leak. The
        # signature is what authenticates us to the receiver.
        raise PydanticCustomError(
            "endpoint_url_credentials",
            "The endpoint URL may not contain a user name or password.",
        )
    if url.fragment is not None:
        raise PydanticCustomError(
            "endpoint_url_fragment",
            "The endpoint URL may not contain a fragment (#...): it is never sent to the server.",
        )
    return url


def check_signing_secret(secret: SecretStr) -> SecretStr:
    """A secret in the Standard Webhooks format, which the `standardwebhooks` package signs with.

    No message of this check repeats the value.
    """
    value = secret.get_secret_value()
    message = (
        "A signing secret is 'whsec_' followed by the base64 of "
        f"{_SECRET_BYTES_MIN} to {_SECRET_BYTES_MAX} random bytes."
    )
    if not value.startswith(SECRET_PREFIX):
        raise PydanticCustomError("signing_secret_format", message)
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("signing_secret_format", message) from None
    if not _SECRET_BYTES_MIN <= len(key) <= _SECRET_BYTES_MAX:
        raise PydanticCustomError("signing_secret_format", message)
    Webhook(value)  # the worker signs with this package: it must read the secret as we do
    return secret


EndpointUrl = Annotated[
    HttpUrl,
    UrlConstraints(max_length=MAX_ENDPOINT_URL_LENGTH),  # for the OpenAPI schema
    BeforeValidator(_check_length),
    AfterValidator(check_endpoint_url),
]
SigningSecret = Annotated[SecretStr, AfterValidator(check_signing_secret)]


def new_signing_secret() -> str:
    """A fresh random signing secret in the Standard Webhooks format."""
    key = secrets.token_bytes(_NEW_SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")
