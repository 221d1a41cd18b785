"""CSTrack: Spatial Compact Module (stage 1) and Temporal Compact Module (stage 2)."""
