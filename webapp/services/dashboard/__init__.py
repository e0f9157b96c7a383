"""The /dashboard namespace's work: analytics, alerts, interventions."""
