"""Helpers for the tests: live servers, worlds of tenants and users, socket clients."""
