"""The shared platform every pillar stands on: accounts, review, notifications, safety, text, anonymity, web plumbing."""
