"""Releases: answering a public access request with a masked, recorded package."""
