"""What the MASH does, independent of how mail arrives: contacts, cases, decisions, checks."""
