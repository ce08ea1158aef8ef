"""Live peer-support rooms: sessions, participants, messages over WebSockets, presence and in-room moderation."""
