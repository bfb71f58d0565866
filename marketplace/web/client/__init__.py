"""The client area (/jobs): post, edit and follow job requests, see matches, invite a worker."""
