"""The official JavaScript client on Node, and the dashboard page in Chromium."""
