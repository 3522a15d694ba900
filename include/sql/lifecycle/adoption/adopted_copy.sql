COPY adopted_badge (issuance_id, credly_badge_id, issued_at, matched_by, expires_at) FROM STDIN
