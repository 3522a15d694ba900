"""A stand-in for Credly's Web Service API v1 with fault injection, for tests and the devstack.

Where it differs from Credly (docs/credly-api.md), so that a green test is read
for what it proves:
- whether a revoked badge still counts as a duplicate is a switch, `revoked_blocks_reissue`
  (off by default: revoke-then-reissue works; on: only DELETE frees the slot), set by
  `--revoked-blocks-reissue`, $CREDLY_SANDBOX_REVOKED_BLOCKS_REISSUE or POST /_sandbox/behavior;
- there are no users: Credly's "same user" duplicate rule is not modelled;
- unknown filter or sort keys answer 422; `issuer_earner_id` filtering works here but is
  unconfirmed on Credly;
- badges stay `pending` until `/_sandbox/badges/{id}/state` changes them, or the earners'
  knob (`/_sandbox/earners`: accept and reject shares, a delay; earners.py) has them accepted
  or rejected, which happens when the API is next read; a live badge becomes `expired` when
  the sandbox's clock passes its `expires_at` (clock.py: the real clock plus an offset that
  `POST /_sandbox/clock` moves; `/_sandbox/reset` puts it back), also applied when the API is
  next read, or through `/_sandbox/badges/{id}/state`;
- a template's default expiry is `expires_in_days` (our reading: Credly documents the
  template-level default, not its field name), applied when `expires_at` is null or left
  out; `false` means never; a time must come after `issued_at`;
- evidence must be a list of `IdEvidence` (title, id), `PlainTextEvidence` (title,
  description) or `UrlEvidence` (name, http(s) url) objects; anything else is a 422;
- whether an expired badge still counts as a duplicate is a switch like the revoked one,
  `expired_blocks_reissue` (off by default: an earner whose badge expired can earn it again);
- `sort=-state_updated_at` (the sync's list of final badges) works here; whether Credly sorts
  by it is unconfirmed (the sync falls back to one GET per badge if Credly refuses it);
- someone else's revoke or delete in Credly's web app is `/_sandbox/badges/{id}/revoke` and
  `DELETE /_sandbox/badges/{id}` (no faults, not counted);
- every error, injected 5xx and 429 included, uses the JSON error envelope; a lost response
  answers 502 (the connection is not dropped); Retry-After is whole seconds;
- no webhooks, no template API (templates come from `--templates` or `/_sandbox/templates`),
  one organization.

What Credly does with a revoked badge is undocumented. Searched Credly's issuer help centre,
GitHub issues and public code: the help centre (bulk replacement FAQ) defines a duplicate as
same template plus same email or same issuer earner id, with no word on state; its revoke
article only says revoking keeps a record where delete removes the earner's data; for an earner
who lost an accepted badge's email it advises revoking and issuing "the same badge to the
updated email", which does not settle the same-email case. Nothing found either way, hence the
switch: test both readings.
"""
