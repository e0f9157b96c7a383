"""REST against a live server: auth, tenancy, publishing, edges, operations."""
