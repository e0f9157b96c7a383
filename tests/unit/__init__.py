"""In-process tests: no server process (the seam, layers, gate, caches, config)."""
