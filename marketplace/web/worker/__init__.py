"""The worker area (/work): profile, offers, gigs, week view, earnings, open requests."""
