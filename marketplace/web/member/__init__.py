"""The member area (my patronage, my dividend estimate, notices, capital account) and the open books."""
