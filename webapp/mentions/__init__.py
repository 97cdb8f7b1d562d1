"""Mentions: search, filters, the mention list (pages and API), exports, label overrides and lexicon pages."""
