"""The /events namespace's work: security events, detections, AI agent runs."""
