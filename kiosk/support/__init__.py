"""Small tools any layer may use (asyncio helpers, JSON text, token buckets); they import nothing of Giliran."""
