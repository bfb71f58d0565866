"""The shared gig page (/gigs/<id>): details, timeline, actions, messages and reviews."""
