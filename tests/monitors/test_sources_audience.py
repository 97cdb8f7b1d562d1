"""Adapters keep the audience and engagement figures their services return (issue 15), from
payloads shaped like the real ones (tests/fake_social.py, tests/fake_news.py); nonsense in them
(a string, a negative count, a bool) is dropped, never stored."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from webapp.monitors.sources import bluesky, github, hackernews, mastodon, reddit, x
from webapp.monitors.sources.items import engagement, figure, make_item
from tests.fake_news import github_issue, reddit_post
from tests.fake_social import bsky_post, hn_story, mastodon_status, x_post

NOW = datetime(2026, 5, 10, 12, tzinfo=timezone.utc)
WHEN = datetime(2026, 5, 10, 11, tzinfo=timezone.utc)


def test_hackernews_points_and_comments():
    hit = {**hn_story(7, WHEN, "Acme rocket launches"), "points": 120, "num_comments": 30}
    item, _ = hackernews.hit_to_item(hit, NOW)
    assert (item.reach, item.engagement) == (None, 150)


def test_mastodon_followers_favourites_boosts_replies():
    status = mastodon_status(1, WHEN, "<p>acme rocket</p>")
    status.update(favourites_count=4, reblogs_count=2, replies_count=1)
    status["account"]["followers_count"] = 5300
    item = mastodon.status_to_item(status, "social.example", NOW)
    assert (item.reach, item.engagement, item.lang) == (5300, 7, None)   # its language is detected


def test_bluesky_likes_reposts_replies_quotes():
    post = {**bsky_post("3k", "acme rocket", WHEN), "likeCount": 10, "repostCount": 3, "replyCount": 2,
            "quoteCount": 1}
    item, _ = bluesky.post_to_item(post, NOW)
    assert item.engagement == 16


def test_x_public_metrics_followers_and_language():
    post = {**x_post(123, "acme rocket", WHEN), "lang": "fr",
            "public_metrics": {"like_count": 5, "retweet_count": 4, "reply_count": 3, "quote_count": 2,
                               "impression_count": 999}}
    item = x.post_to_item(post, {"100": "alice"}, NOW, {"100": 42_000})
    assert (item.reach, item.engagement, item.lang) == (42_000, 14, "fr")
    undetermined = x.post_to_item({**post, "lang": "und"}, {}, NOW)
    assert (undetermined.lang, undetermined.reach) == (None, None)


def test_reddit_score_comments_and_subscribers():
    child = reddit_post(5, WHEN)
    child["data"].update(score=250, num_comments=40, subreddit_subscribers=1_200_000)
    item = reddit.post_item(child, NOW)
    assert (item.reach, item.engagement) == (1_200_000, 290)


def test_github_comments_and_reactions():
    issue = {**github_issue(3, WHEN), "comments": 6, "reactions": {"total_count": 9, "+1": 9}}
    item = github.issue_item(issue, NOW)
    assert item.engagement == 15


@pytest.mark.parametrize("value", ["12", -1, True, 1.5, float("nan"), float("inf"), 2**63, None, [3], {"n": 1}])
def test_nonsense_figures_are_dropped(value):
    assert figure(value) is None
    assert make_item("1", "text", reach=value, engaged=(value,), lang=value).reach is None


def test_engagement_sums_what_is_a_count():
    assert engagement(1, None, "2", 3.0, -4) == 4
    assert engagement(None, "x") is None
