"""The source part of the monitor forms, built from the adapters' declared settings: every kind has
its section, sources of several kinds are created and added through the pages, credentials are
never echoed, and errors (the API's own messages) show next to the input they concern."""
from __future__ import annotations

import re
from html import unescape

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.helpers import new_monitor
from webapp.core import crypto
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.monitors.source_forms import input_name
from webapp.monitors.sources import REGISTRY

GITHUB_TOKEN = "ghp_FORMSECRET0123456789"
JSON_SECRET = "Bearer JSONFORMSECRET"
X_TOKEN = "XFORMSECRETTOKEN"


def field_errors(html: str) -> dict[str, list[str]]:
    """Input name -> the error messages rendered in the same `.field` block (templates/_forms.html)."""
    found = {}
    for block in html.split('<div class="field')[1:]:
        block = block.split("</div>", 1)[0]
        name = re.search(r'name="([^"]+)"', block)
        if name:
            found[name[1]] = [unescape(m) for m in re.findall(r'<p class="error">(.*?)</p>', block, re.S)]
    return found


def stored_sources(app, monitor_id: int) -> dict[str, tuple[int, dict]]:
    """Kind -> (every, settings with credentials opened); credentials are checked sealed at rest."""
    with app.app_context():
        found = {}
        for source in db.session.get(Monitor, monitor_id).fetched_sources:
            for key, value in source.settings.items():
                assert key not in crypto.CREDENTIAL_KEYS or crypto.is_sealed(value), (source.kind, key)
            found[source.kind] = (source.every, crypto.reveal_settings(source.settings))
        return found


def created_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_every_registered_kind_has_its_section_and_fields(app, logged_in):
    monitor_id, _ = new_monitor(app)
    for path in ("/monitors/new", f"/monitors/{monitor_id}/edit"):
        html = logged_in.get(path).get_data(as_text=True)
        for kind, adapter in REGISTRY.items():
            assert f'id="source-{kind}"' in html and str(escape(adapter.label)) in html, (path, kind)
            assert f'name="{input_name(kind, "every")}"' in html, (path, kind)
            if kind != "rss":  # RSS sources come from the URL lines
                assert f'name="{input_name(kind)}" type="checkbox"' in html, (path, kind)
            for setting in adapter.fields:
                name = input_name(kind, setting.name)
                assert re.search(rf'<(input|textarea)[^>]*name="{re.escape(name)}"', html), (path, name)
                assert str(escape(setting.help)) in html, (path, name)
                if setting.secret:
                    assert re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*type="password"', html), name


def test_sources_of_several_kinds_are_created_through_the_page(app, logged_in):
    response = logged_in.post("/monitors/new", data={
        "name": "Many kinds", "query": "acme", "every": "600",
        "src-hackernews": "y", "src-hackernews-query": "acme rocket", "src-hackernews-tags": "story",
        "src-hackernews-every": "120",
        "src-mastodon": "y", "src-mastodon-instances": "mastodon.social, https://fosstodon.org",
        "src-mastodon-tag": "#acme",
        "src-github": "y", "src-github-token": GITHUB_TOKEN, "src-github-query": "repo:acme/rocket",
        "src-json": "y", "src-json-url": "https://api.example.com/items", "src-json-items": "data.results",
        "src-json-fields": '{"id": "id", "text": "title"}', "src-json-headers": f'{{"Authorization": "{JSON_SECRET}"}}',
        "src-gdelt-every": "", "src-reddit-query": "",  # untouched sections add nothing
    })
    monitor_id = created_id(response)
    sources = stored_sources(app, monitor_id)
    assert set(sources) == {"hackernews", "mastodon", "github", "json"}
    assert sources["hackernews"] == (120, {"tags": "story", "query": "acme rocket"})
    assert sources["mastodon"] == (REGISTRY["mastodon"].default_every, {
        "instances": ["https://mastodon.social", "https://fosstodon.org"], "tag": "acme"})
    assert sources["github"] == (REGISTRY["github"].default_every, {"token": GITHUB_TOKEN, "query": "repo:acme/rocket"})
    assert sources["json"][1] == {"url": "https://api.example.com/items", "items": "data.results",
                                  "fields": {"id": "id", "text": "title"}, "max_pages": sources["json"][1]["max_pages"],
                                  "headers": {"Authorization": JSON_SECRET}}
    for path in (f"/monitors/{monitor_id}", f"/monitors/{monitor_id}/edit"):
        html = logged_in.get(path).get_data(as_text=True)
        assert GITHUB_TOKEN not in html and "JSONFORMSECRET" not in html
    edit = logged_in.get(f"/monitors/{monitor_id}/edit").get_data(as_text=True)
    assert "repo:acme/rocket" in edit and "https://fosstodon.org" in edit  # what each source reads


def test_errors_show_next_to_their_input_and_secrets_are_not_echoed(app, logged_in):
    response = logged_in.post("/monitors/new", data={
        "name": "Errors", "query": "acme",
        "src-mastodon": "y", "src-mastodon-instances": "mastodon.social", "src-mastodon-tag": "not a tag!",
        "src-github": "y", "src-github-token": GITHUB_TOKEN, "src-github-every": "30",
        "src-json": "y", "src-json-url": "https://api.example.com/items", "src-json-fields": "{not json",
        "src-json-headers": f'{{"Authorization": "{JSON_SECRET}"}}',
        "src-x": "y", "src-x-bearer_token": X_TOKEN, "src-x-max_posts_per_day": "many",
        "src-youtube": "y",  # its API key is required
    })
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html)
    assert "hashtag" in errors["src-mastodon-tag"][0]
    assert "every must be a whole number of seconds from 300" in errors["src-github-every"][0]
    assert "JSON object" in errors["src-json-fields"][0]
    assert "max_posts_per_day" in errors["src-x-max_posts_per_day"][0]
    assert "API key is required" in errors["src-youtube-api_key"][0]
    # Credentials are never rendered back, not even to correct another field; the rest is.
    for secret in (GITHUB_TOKEN, "JSONFORMSECRET", X_TOKEN):
        assert secret not in html
    assert 'value="mastodon.social"' in html and 'value="not a tag!"' in html
    with app.app_context():
        assert db.session.execute(select(Monitor)).first() is None


def test_the_page_and_the_api_give_the_same_message(app, logged_in, auth):
    spec = {"kind": "mastodon", "instances": "mastodon.social", "tag": "not a tag!"}
    api = logged_in.post("/api/v1/monitors", headers=auth, json={"name": "n", "sources": [spec]})
    assert api.status_code == 422
    message = api.get_json()["detail"]["sources[0].tag"]
    page = logged_in.post("/monitors/new", data={
        "name": "n", "src-mastodon": "y", "src-mastodon-instances": spec["instances"], "src-mastodon-tag": spec["tag"]})
    assert field_errors(page.get_data(as_text=True))["src-mastodon-tag"] == [message]


def test_typed_settings_without_the_add_box_ask_for_it(app, logged_in):
    response = logged_in.post("/monitors/new", data={"name": "n", "src-hackernews-query": "acme"})
    assert response.status_code == 400
    assert "Tick" in field_errors(response.get_data(as_text=True))["src-hackernews"][0]
    # Only the add box: a kind without required settings takes its defaults.
    monitor_id = created_id(logged_in.post("/monitors/new", data={"name": "n", "src-gdelt": "y"}))
    assert stored_sources(app, monitor_id)["gdelt"] == (REGISTRY["gdelt"].default_every, {})


def test_errors_about_all_sources_show_above_the_sections(logged_in):
    lines = "\n".join(f"https://example.com/{i}.xml" for i in range(51))
    response = logged_in.post("/monitors/new", data={"name": "n", "rss_urls": lines})
    assert response.status_code == 400
    assert re.search(r'<p class="error sources-error">at most 50 sources', response.get_data(as_text=True))


@pytest.mark.parametrize("every", ["-5", "abc", "²", "1" * 30, "99999999999", "30"])
def test_bad_intervals_are_a_400_next_to_the_field(logged_in, every):
    response = logged_in.post("/monitors/new", data={"name": "n", "src-demo-every": every, "demo": "y"})
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True))["src-demo-every"]


def test_the_edit_page_adds_sources_of_any_kind(app, logged_in):
    monitor_id, _ = new_monitor(app, name="Edit", sources=[{"kind": "demo"}])
    bad = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "Edit", "src-x": "y", "src-x-bearer_token": X_TOKEN, "src-x-base_url": "ftp://x"})
    assert bad.status_code == 400 and X_TOKEN not in bad.get_data(as_text=True)
    assert field_errors(bad.get_data(as_text=True))["src-x-base_url"]
    saved = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "Edit", "src-x": "y", "src-x-bearer_token": X_TOKEN, "src-x-max_posts_per_day": "40",
        "src-x-every": "900", "src-bluesky": "y", "src-bluesky-identifier": "@me.bsky.social",
        "src-bluesky-app_password": "abcd-efgh-ijkl-mnop"})
    assert saved.status_code == 302
    sources = stored_sources(app, monitor_id)
    assert set(sources) == {"demo", "x", "bluesky"}
    assert sources["x"] == (900, {"bearer_token": X_TOKEN, "max_posts_per_day": 40})
    assert sources["bluesky"][1] == {"identifier": "me.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}
    page = logged_in.get(f"/monitors/{monitor_id}/edit").get_data(as_text=True)
    assert X_TOKEN not in page and "abcd-efgh-ijkl-mnop" not in page and "me.bsky.social" in page
