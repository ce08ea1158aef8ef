"""HTTP endpoints of the reflections pillar."""
