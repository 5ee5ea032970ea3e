"""MASH checks (protocol section 5): requests, replies, withdrawal and chasing."""
