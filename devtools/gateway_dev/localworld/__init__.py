"""A local mail world on loopback: Dovecot in a temp dir and a recording SMTP server.

Used by the test fixtures, the benchmark and the embedded-defaults run; never in production.
"""
