"""The /engagement namespace's work: engagements and collaboration sessions."""
