"""The governance area: membership, proposals, votes and discussion (issue 6)."""
