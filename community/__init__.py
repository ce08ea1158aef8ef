"""A peer-support community for residents and attending physicians."""
