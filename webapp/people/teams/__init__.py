"""Teams: the team API and pages (members, roles, the current team); the rules live in webapp/people/services/teams.py."""
