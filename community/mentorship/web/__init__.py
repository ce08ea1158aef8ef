"""The mentorship pillar's pages."""
