"""Delivery: publishing, the event log writer, targets, replay, history."""
