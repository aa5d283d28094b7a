"""The connector operations as JSON API views (thin: the services and selectors do the work)."""
