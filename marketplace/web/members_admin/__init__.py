"""The member register kept by the board and the treasurer (issue 6 §1)."""
