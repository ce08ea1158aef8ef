"""HTTP endpoints per domain; each module exports `routes`."""
