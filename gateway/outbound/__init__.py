"""Mail going out: composition from templates, the durable outbox and the SMTP sender."""
