"""The connector pages."""
