"""The one error devstack raises for a problem a person can fix: said in one line."""


class DevstackError(RuntimeError):
    """Something on this machine stops the local stack; the message says what to do."""
