"""The mentorship pillar: member cards, the mentor directory, office hours and mentor conversations."""
