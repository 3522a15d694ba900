"""The revocation gate's check (docs/gates.md): the changes a nightly run would make after
issuance, per site and reason, and whether an operator must approve them first."""

from __future__ import annotations

from datetime import date
from typing import Any

from badging.core import db
from badging.core.constants import REVOCATIONS_WITHOUT_APPROVAL
from badging.core.markdown import escape
from badging.core.run import RunInfo
from badging.gates.approval import Check


def open_revocations(run_id: str, badging: str = db.BADGING_CONN_ID
                     ) -> list[tuple[str, str, int, int]]:
    """(site, reason, badges, of them held by an earlier refusal) of the revocations the run
    decides."""
    with db.connect(badging) as conn:
        return db.execute(conn, "lifecycle/revocation/run_revocations.sql",
                          {"run_id": run_id}).fetchall()


def revocation_check(context: dict[str, Any]) -> Check:
    """The revocation gate's check: the run's open revocations judged (revocation_judgement)."""
    run = RunInfo.from_context(context)
    limit = int(context["params"]["max_revocations_without_approval"])
    if not run.is_nightly:
        return Check(ask=False, summary="only a nightly run changes badges after issuance",
                     body="", subject=f"Revoke nothing (run of {run.day})")
    return revocation_judgement(open_revocations(run.run_id), limit=limit, day=run.day)


def revocation_judgement(rows: list[tuple[str, str, int, int]], *, limit: int,
                         day: date) -> Check:
    """Ask an operator when the run would revoke more than `limit` badges
    (`max_revocations_without_approval`), and whenever an earlier run's operator held some
    (rejected, or left unanswered): those are revoked only on a new approval, whatever the
    threshold or `accept_revocations`. A limit above the default is recorded with who
    triggered the run. The form shows the badges per (escaped) site and reason.

    Args:
        rows: (site, reason, badges, of them held before), as open_revocations.
    """
    total = sum(n for _, _, n, _ in rows)
    held = sum(h for *_, h in rows)
    table = "\n".join(f"| {escape(site)} | {escape(reason)} | {n} | {h} |"
                      for site, reason, n, h in rows)
    held_note = (f"**{held} of them were held by an earlier run's operator** (rejected, or not "
                 "answered in time): they are revoked only if you approve now.\n\n"
                 if held else "")
    body = (f"**{total} badges** would be revoked in Credly, or replaced or moved for a "
            f"corrected name or email (reasons name_corrected, email_corrected); the earners "
            f"are told unless notifications are suppressed. At most {limit} are changed "
            f"without asking, and none that an operator held before.\n\n{held_note}"
            f"| site | reason | badges | held before |\n|---|---|---|---|\n{table}\n\n"
            "**Approve** to revoke them now. **Reject** to hold them: nothing is revoked, "
            "and the next run asks again. The rest of the run goes on either way.")
    summary = (f"{total} badges to revoke (at most {limit} without approval"
               + (f"; {held} held by an earlier decision" if held else "") + ")")
    ask = held > 0 or total > limit
    return Check(ask=ask, summary=summary, body=body,
                 subject=f"Revoke {total} badges (run of {day})?",
                 must_ask=held > 0,
                 passed_by_param=not ask and total > REVOCATIONS_WITHOUT_APPROVAL,
                 attributed=limit > REVOCATIONS_WITHOUT_APPROVAL,
                 detail={"revocations": total, "held_before": held, "maximum": limit,
                         "by_site": [{"site": s, "reason": r, "badges": n, "held_before": h}
                                     for s, r, n, h in rows]})
