"""The display room: the waiting-hall TV page, its event stream and the Indonesian call-out."""
