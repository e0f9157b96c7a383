"""Authentication: JWTs for users, API keys for integrations."""
