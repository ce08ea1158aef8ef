"""Moderated discussion threads: categories, threads, posts, reactions, watches and search."""
