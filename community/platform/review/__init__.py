"""The review queue shared by every pillar: flags, items, decisions, watched words and the audit log."""
