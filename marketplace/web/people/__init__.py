"""Browsing workers (/workers) and their public profiles."""
