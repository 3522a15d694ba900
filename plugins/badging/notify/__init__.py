"""Who is told what: the operators' alerts and each technology center's morning list
(docs/notifications.md)."""
