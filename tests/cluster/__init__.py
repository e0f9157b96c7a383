"""Two or more server processes sharing Redis and PostgreSQL."""
