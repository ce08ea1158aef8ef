"""Members, sessions, invitations, roles, and a member's own data."""
