"""People, organizations, memberships and API keys."""
