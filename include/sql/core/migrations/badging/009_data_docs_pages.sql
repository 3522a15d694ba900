-- Data Docs are written by `validate`, which has Great Expectations loaded already, one run's
-- pages at a time (issue 17: `report` no longer imports GX). Each suite result remembers its
-- page, relative to the report location's root; NULL: not written yet (the report task
-- writes it then).
ALTER TABLE badging.dq_result ADD COLUMN IF NOT EXISTS docs_page text;
