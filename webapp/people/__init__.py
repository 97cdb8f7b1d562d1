"""People: users, roles, API tokens, sign-in and the login throttle."""
