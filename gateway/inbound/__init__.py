"""Mail coming in: IMAP watchers, the SMTP/LMTP listener, ingest and the processing pipeline."""
