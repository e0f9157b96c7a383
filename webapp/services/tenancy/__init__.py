"""Tenancy: tenants, users, API keys, auth, revocation, login throttling, visibility."""
