"""The /system namespace's work: GPU stats and camera status."""
