-- One revocation's state, read when this run could not claim it: in_flight means another
-- holder has it (alive, or dead until its lease runs out).
SELECT revocation_state FROM badging.revocation WHERE revocation_id = %(revocation_id)s;
