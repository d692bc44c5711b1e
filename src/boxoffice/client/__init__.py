"""The sync client: keeps a local copy of a Peppered-compatible server; never imports server/."""
