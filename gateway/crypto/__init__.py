"""OpenPGP: the keyring around gpg, PGP/MIME, and the verdicts on signatures."""
