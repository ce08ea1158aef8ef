"""Email: the transactional outbox, its sender, the Jinja2 mail templates and the development catcher."""
