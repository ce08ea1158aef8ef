"""HTTP endpoints of the discussions pillar."""
