"""HTTP and WebSocket endpoints of the rooms pillar."""
