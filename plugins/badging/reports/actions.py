"""What a technology center does about each quarantine check, warning and reason: one line
each, shared by the correction report, the morning lists and the console (no student data)."""

from __future__ import annotations

from badging.core.constants import Reason

# What a technology center does about each quarantine check or warning (names from the
# suites in include/expectations) and each ineligibility reason. Unknown names fall back to
# a generic line, so a new check never breaks the report.
CHECK_ACTIONS = {
    "text_valid_utf8": "Retype the student's name and email and the entry's codes in CTIMS: "
                       "they hold characters that are not valid text (not UTF-8).",
    "email_present": "Enter the student's email address in CTIMS.",
    "email_well_formed": "Correct the student's email address (one @, no spaces).",
    "email_domain_well_formed": "Correct the domain of the student's email address.",
    "email_length": "Correct the student's email address (too short or too long).",
    "first_name_present": "Enter the student's first name.",
    "last_name_present": "Enter the student's last name.",
    "first_name_length": "Correct the student's first name (empty or over 100 characters).",
    "last_name_length": "Correct the student's last name (empty or over 100 characters).",
    "first_name_has_letters": "Correct the student's first name (no letters in it).",
    "last_name_has_letters": "Correct the student's last name (no letters in it).",
    "first_name_printable": "Retype the student's first name (invisible control characters).",
    "last_name_printable": "Retype the student's last name (invisible control characters).",
    "assessment_code_present": "Enter the assessment code.",
    "assessment_code_well_formed": "Correct the assessment code (letters then digits, "
                                   "e.g. CTTC12345).",
    "site_code_present": "Enter the nine-digit site code.",
    "site_code_nine_digits": "Correct the site code: nine digits, leading zeros kept.",
    "test_date_present": "Enter the test date.",
    "test_date_plausible": "Correct the test date (before 2000 or after the day processed).",
    "test_date_not_after_entry": "Correct the test date: it is after the day it was entered.",
    "student_id_present": "The entry has no student: re-enter it.",
    "certification_id_present": "Report to CareerTech data engineering (entry without id).",
    "certification_id_unique": "Report to CareerTech data engineering (id repeated).",
    "entered_more_than_once": "Check for a duplicate entry of the same test.",
    "test_date_outside_approval": "Check the test date against the assessment's approval.",
    "entered_long_after_test": "Check the test date: entered over a year after the test.",
}
# One line for every reason a row can be reported with (a test holds this to the enum).
REASON_ACTIONS = {
    Reason.DELETED: "Nothing: the entry was deleted in CTIMS.",
    Reason.NOT_APPROVED_ASSESSMENT: "Check the assessment code: it is not on the Approved "
                                    "Assessment list.",
    Reason.ASSESSMENT_NOT_EFFECTIVE: "Check the test date and assessment: the assessment was "
                                     "not approved on that date.",
    Reason.VENDOR_BADGE: "Nothing: the vendor issues this badge itself.",
    Reason.NO_ALIGNED_PROGRAM: "Check the student's enrollment: no approved program at an "
                               "accredited site covering this assessment, started by the "
                               "test date.",
    Reason.BEFORE_PROGRAM_LAUNCH: "Nothing: tests before the badge program began earn no "
                                  "badge.",
    Reason.NO_BADGE_TEMPLATE: "Nothing for the site: CareerTech must set up the Credly "
                              "template.",
    Reason.OPTED_OUT: "Nothing: the student opted out of badges.",
    Reason.DUPLICATE_ENTRY: "Remove the duplicate entry (the badge is issued once).",
    Reason.ALREADY_ISSUED: "Nothing: the badge was issued earlier.",
    Reason.PREVIOUSLY_FAILED: "CareerTech will retry; correct the entry if it is wrong.",
    Reason.EXPIRED_BEFORE_ISSUE: "Check the test date: by it the certification has already "
                                 "expired, so no badge is issued (nothing to do if it is "
                                 "right).",
    Reason.RENEWS_AT_EXPIRY: "Nothing: the student's current badge is still valid; the "
                             "renewed badge is issued the night after it expires.",
    Reason.FAILED_IN_OTHER_RUN: "CareerTech will retry; correct the entry if it is wrong.",
    Reason.ENTRY_REMOVED: "Nothing if the entry was removed on purpose: its badge was "
                          "revoked. Enter it again if it was removed by mistake.",
    Reason.ENTRY_REASSIGNED: "Nothing if the correction is right: the badge of the student "
                             "and assessment the entry named before was revoked.",
    Reason.NAME_CORRECTED: "Nothing: the badge was replaced by one with the corrected name.",
    Reason.EMAIL_CORRECTED: "Nothing: an unaccepted badge was sent again to the corrected "
                            "address; an accepted one stays with its earner.",
    Reason.EMAIL_BLANK: "Enter the student's email address in CTIMS (the badge stays as it is "
                        "meanwhile).",
    Reason.EMAIL_MALFORMED: "Correct the student's email address in CTIMS: one @ and a "
                            "domain with a dot (the badge stays as it is meanwhile).",
    Reason.NAME_BLANK: "Enter the student's first and last name in CTIMS (the badge stays as "
                       "it is meanwhile).",
    Reason.REVOKED_IN_CREDLY: "Someone revoked the badge in Credly: CareerTech decides "
                              "whether it is issued again.",
    Reason.DELETED_IN_CREDLY: "Someone deleted the badge in Credly: CareerTech decides "
                              "whether it is issued again.",
    Reason.NAME_MISMATCH: "Check the student's name in CTIMS: Credly holds a badge of this "
                          "assessment for the student's email issued to another name (a "
                          "family member's?). CareerTech decides whose it is.",
    Reason.SHARED_EMAIL: "Give the student an email of their own in CTIMS if you can: several "
                         "students use this address, and Credly holds a badge of this "
                         "assessment for it. CareerTech decides whose it is.",
    Reason.OTHER_EARNER: "Check the student's email in CTIMS: Credly holds a badge of this "
                         "assessment for it under another earner. CareerTech decides.",
    Reason.HELD_BY_DECISION: "Nothing for the site: CareerTech's operators held these entries "
                             "at the volume gate (a day's feed they rejected); they are issued "
                             "if the day is released.",
}
ACTIONS: dict[str, str] = {**CHECK_ACTIONS, **REASON_ACTIONS}
