"""mash-gateway: secure email-gateway automation for a children's MASH."""

__version__ = "0.1.0"
