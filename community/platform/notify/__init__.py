"""In-app notifications, to a member or to a sealed tag."""
