"""Socket.IO against a live server, one namespace or behaviour per file."""
