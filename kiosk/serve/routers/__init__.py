"""The service's routers, one per area (pages, activation links, the JSON API)."""
