"""Writes of the customers app, one module per area; each service is one transaction."""
