"""Reflective writing: the private journal, prompts, anonymous sharing on the wall, and supportive replies."""
