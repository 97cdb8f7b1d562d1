"""Noise control: mute lists (authors, domains, a query) and irrelevant marks; muted mentions are stored but counted nowhere."""
