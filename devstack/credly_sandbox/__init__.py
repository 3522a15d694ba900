"""A stand-in for Credly's Web Service API v1 with fault injection, for tests and the devstack.

Where it differs from Credly (shared/reference/credly-api.md), so that a green test is read
for what it proves:
- a revoked badge still counts as a duplicate (only DELETE frees the slot);
- there are no users: Credly's "same user" duplicate rule is not modelled;
- unknown filter or sort keys answer 422; `issuer_earner_id` filtering works here but is
  unconfirmed on Credly;
- badges stay `pending` until `/_sandbox/badges/{id}/state` changes them;
- every error, injected 5xx and 429 included, uses the JSON error envelope; a lost response
  answers 502 (the connection is not dropped); Retry-After is whole seconds;
- no webhooks, no template API (templates come from `--templates` or `/_sandbox/templates`),
  one organization.
"""
