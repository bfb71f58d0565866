"""In-app notifications (/notifications) and the unread count in the navigation."""
