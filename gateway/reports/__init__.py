"""What the gateway tells people about itself: digest, agenda, status, metrics, audit."""
