"""The pipeline's handlers, one module per kind of mail."""
