"""Mail formats used by both directions: addresses, MIME decoding, automatic-mail signals, VERP."""
