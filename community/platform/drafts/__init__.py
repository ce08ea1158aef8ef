"""Drafts of every composer (threads, replies, edits, reflection replies, room messages): stored, listed, purged."""
