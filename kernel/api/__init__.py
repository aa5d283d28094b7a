"""The JSON API's shared parts: authentication, permissions, errors, URLs."""
