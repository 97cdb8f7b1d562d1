"""Tests of webapp/people/: users, roles, tokens, sign-in, sessions, access rules."""
