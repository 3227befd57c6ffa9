"""Signing in to `/ui` when reads need a key: the form, the signed session cookie, its expiry,
sign-out, and the cross-site guard on the form. The apps read an empty database (nothing
trained), so the page answers at once, each section saying its model is not trained."""

import re
import time
from pathlib import Path

import httpx
from pydantic import SecretStr
from secantus import SecantusDBServer

from app.config import Settings
from app.core.http.access import SESSION_COOKIE, session_cookie, session_valid
from tests.factories import make_settings, running

KEYS = "key-one,key-two"
PAGE_MARK = '<section id="forecast"'
FORM_MARK = '<form method="post" action="/ui/signin"'


def _settings(mongo_server: SecantusDBServer, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_NAME": "ui_signin_empty",
        "API_KEYS": KEYS,
        "AUTH_REQUIRED_FOR_READS": True,
        **overrides,
    }
    return make_settings(mongo_server.uri, tmp_path, **values)


def _cookie_attributes(response: httpx.Response) -> dict[str, str]:
    header = response.headers["set-cookie"]
    parts = [part.strip() for part in header.split(";")]
    attributes = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return attributes


async def test_without_a_session_the_page_is_the_sign_in_form(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        response = await client.get("/ui")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert FORM_MARK in response.text
    assert 'type="password" name="key"' in response.text
    assert PAGE_MARK not in response.text


async def test_a_wrong_key_gets_the_form_again_with_a_sentence(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        wrong = await client.post("/ui/signin", data={"key": "not-a-key"})
        empty = await client.post("/ui/signin", data={})
        garbage = await client.post(
            "/ui/signin",
            content=b"\xff\xfe%%%&&key",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    for response in (wrong, empty, garbage):
        assert response.status_code == 401
        assert FORM_MARK in response.text
        assert "set-cookie" not in response.headers
    assert "That key is not one of the service&#39;s API keys" in wrong.text
    assert "Enter one of the service&#39;s API keys" in empty.text
    assert "not-a-key" not in wrong.text


async def test_the_right_key_sets_a_strict_httponly_cookie_that_opens_the_page(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = _settings(mongo_server, tmp_path, UI_SESSION_HOURS=2)
    async with running(settings) as client:
        signed_in = await client.post("/ui/signin", data={"key": "key-two"})
        page = await client.get("/ui", params={"days": 3})  # the client keeps the cookie

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/ui"
    attributes = _cookie_attributes(signed_in)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["max-age"] == str(2 * 3600)
    assert "expires" in attributes
    assert attributes["path"] == "/ui"
    assert "secure" not in attributes  # plain http here; https requests get Secure
    value = signed_in.cookies[SESSION_COOKIE]
    assert "key-two" not in value
    assert page.status_code == 200
    assert PAGE_MARK in page.text
    assert 'action="/ui/signout"' in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_over_https_the_cookie_is_secure(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        signed_in = await client.post("https://testserver/ui/signin", data={"key": "key-one"})

    assert "secure" in _cookie_attributes(signed_in)


async def test_a_tampered_expired_or_foreign_cookie_gets_the_form(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    key = SecretStr("key-one")
    later = int(time.time()) + 3600
    valid = session_cookie(key, later)
    expires, _, signature = valid.partition(".")
    tampered = [
        f"{int(expires) + 86400}.{signature}",  # a later expiry, the old signature
        f"{expires}.{'0' * 64}",
        "garbage",
        "",
    ]
    expired = session_cookie(key, int(time.time()) - 1)
    of_a_removed_key = session_cookie(SecretStr("key-removed"), later)
    async with running(_settings(mongo_server, tmp_path)) as client:
        answers = {}
        for value in [*tampered, expired, of_a_removed_key]:
            client.cookies.set(SESSION_COOKIE, value, path="/ui")
            answers[value] = await client.get("/ui")
            client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, valid, path="/ui")
        accepted = await client.get("/ui")

    for response in answers.values():
        assert response.status_code == 401
        assert FORM_MARK in response.text
    assert accepted.status_code == 200


def test_a_session_is_valid_until_its_expiry_and_for_its_keys_only() -> None:
    keys = [SecretStr("key-one"), SecretStr("key-two")]
    value = session_cookie(SecretStr("key-two"), 1_000)

    assert session_valid(value, keys, now=999)
    assert not session_valid(value, keys, now=1_000)
    assert not session_valid(value, [SecretStr("key-one")], now=999)  # key-two removed
    assert not session_valid(None, keys, now=0)


async def test_sign_out_clears_the_cookie(mongo_server: SecantusDBServer, tmp_path: Path) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        await client.post("/ui/signin", data={"key": "key-one"})
        assert (await client.get("/ui")).status_code == 200
        signed_out = await client.post("/ui/signout")
        after = await client.get("/ui")

    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/ui"
    attributes = _cookie_attributes(signed_out)
    assert attributes["max-age"] == "0"
    assert attributes["path"] == "/ui"
    assert after.status_code == 401
    assert FORM_MARK in after.text


async def test_the_cookie_opens_the_page_not_the_api(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        await client.post("/ui/signin", data={"key": "key-one"})
        value = client.cookies[SESSION_COOKIE]
        api = await client.get("/status", headers={"Cookie": f"{SESSION_COOKIE}={value}"})
        with_header = await client.get("/ui", headers={"X-API-Key": "key-two"})

    assert api.status_code == 401
    assert with_header.status_code == 200


async def test_a_sign_in_posted_by_a_foreign_page_is_refused(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        foreign = await client.post(
            "/ui/signin", data={"key": "key-one"}, headers={"Origin": "https://evil.example"}
        )
        foreign_signout = await client.post(
            "/ui/signout", headers={"Origin": "https://evil.example"}
        )
        own_page = await client.post(
            "/ui/signin", data={"key": "key-one"}, headers={"Origin": "http://testserver"}
        )
        elsewhere = await client.post(
            "/api/v1/forecast/train", headers={"Origin": "http://testserver"}
        )

    assert foreign.status_code == foreign_signout.status_code == 403
    assert "set-cookie" not in foreign.headers
    assert own_page.status_code == 303  # the page's own form, whatever the service's name
    assert elsewhere.status_code == 403  # the same-origin rule is the sign-in form's alone


async def test_with_open_reads_the_page_shows_no_form(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = _settings(mongo_server, tmp_path, AUTH_REQUIRED_FOR_READS=False)
    async with running(settings) as client:
        page = await client.get("/ui")
        sign_in = await client.post("/ui/signin", data={"key": "key-one"})

    assert page.status_code == 200
    assert PAGE_MARK in page.text
    assert FORM_MARK not in page.text
    assert 'action="/ui/signout"' not in page.text
    assert sign_in.status_code == 303
    assert "set-cookie" not in sign_in.headers
    assert re.search(r"<script", page.text) is None


def test_a_cookie_with_other_digits_or_no_hex_signature_is_no_session() -> None:
    keys = [SecretStr("key-one")]
    signature = session_cookie(keys[0], 4_000_000_000).partition(".")[2]

    assert not session_valid(f"²{signature[:1]}.{signature}", keys, now=0)
    assert not session_valid(f"4000000000.{signature.upper()}", keys, now=0)
    assert not session_valid("4000000000." + "é" * 64, keys, now=0)


async def test_careless_sign_ins_get_the_form_not_a_500(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    many_fields = {f"field{n}": "x" for n in range(20)} | {"key": "key-one"}
    async with running(_settings(mongo_server, tmp_path)) as client:
        crowded = await client.post("/ui/signin", data=many_fields)
        odd = f"{SESSION_COOKIE}=².{'0' * 64}".encode()  # as a browser may send it
        odd_cookie = await client.get("/ui", headers=[(b"cookie", odd)])

    assert crowded.status_code == 401
    assert FORM_MARK in crowded.text
    assert odd_cookie.status_code == 401
    assert FORM_MARK in odd_cookie.text


async def test_no_other_site_may_frame_the_page_or_its_form(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(_settings(mongo_server, tmp_path)) as client:
        form = await client.get("/ui")
    async with running(_settings(mongo_server, tmp_path, AUTH_REQUIRED_FOR_READS=False)) as open_:
        page = await open_.get("/ui")

    for answer in (form, page):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
