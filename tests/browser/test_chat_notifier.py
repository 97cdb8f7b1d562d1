"""In Chromium, the chat notifier form on /alerts: a Discord webhook is added (a wrong URL first,
answered next to the field), *Send test* posts to the local Discord fake and says so in a
sentence, a rate-limited test says it will be retried, and the deliveries page lists both."""
from __future__ import annotations

from tests.browser.support import PASSWORD, accessibility_violations, sign_in
from tests.fake_chat import chat_fake  # noqa: F401  (fixture)
from tests.helpers import make_user


def test_add_a_discord_notifier_send_a_test_and_see_the_delivery(app, live_server, guard, page, chat_fake):
    fake = chat_fake("discord")
    make_user(app, email="ops@example.com", role="admin", password=PASSWORD)
    sign_in(page, "ops@example.com", next_path="/alerts")
    page.goto("/alerts")
    form = page.locator("form", has=page.get_by_role("heading", name="New chat notifier"))
    form.get_by_label("Service").select_option("discord")
    form.get_by_label("Name").fill("Ops <chat>")
    form.get_by_label("Webhook URL").fill("https://example.com/api/webhooks/1/x")
    guard.expect_console_error(r"status of 400 .*/alerts/notifiers/chat")
    form.get_by_role("button", name="Add chat notifier").click()
    page.wait_for_selector("text=this is not a Discord webhook URL")
    assert not accessibility_violations(page)

    form = page.locator("form", has=page.get_by_role("heading", name="New chat notifier"))
    form.get_by_label("Service").select_option("discord")
    form.get_by_label("Webhook URL").fill(fake.url)
    form.get_by_role("button", name="Add chat notifier").click()
    page.wait_for_selector("text=Notifier “Ops <chat>” created.")
    row = page.locator("tr", has=page.get_by_text("Ops <chat>", exact=True))
    assert "discord" in row.inner_text() and "tokentoken" not in page.content()   # the URL's token is hidden

    row.get_by_role("button", name="Send test").click()
    page.wait_for_selector("text=Test message posted to Discord through “Ops <chat>” (HTTP 204")
    assert len(fake.posts) == 1 and fake.posts[0].json["allowed_mentions"] == {"parse": []}
    assert fake.posts[0].json["embeds"][0]["title"] == "TEST: Test alert · Sentimon"

    fake.script("rate_limited", retry_after=30)
    page.locator("tr", has=page.get_by_text("Ops <chat>", exact=True)).get_by_role("button", name="Send test").click()
    page.wait_for_selector("text=Discord is rate limiting: HTTP 429 (retry after 30 s)")
    assert "will be retried" in page.content()

    page.goto("/admin/deliveries")
    table = page.locator("#deliveries").inner_text()
    assert "Ops <chat>" in table and "sent" in table and "204" in table and "429" in table
