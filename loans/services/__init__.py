"""Writes of the loans app, one module per area; each service is one transaction."""
