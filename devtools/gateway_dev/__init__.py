"""Development tools: the local mail world and the demo. Not installed in production."""
