"""Cluster state: connections, presence, the message queue, the shared Redis state."""
