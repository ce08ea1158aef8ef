"""Business logic, free of HTTP: each function takes a session and an actor, and raises errors.*."""
