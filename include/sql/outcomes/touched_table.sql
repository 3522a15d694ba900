-- The summary keys a refresh chunk touched: the keys its badges were counted under before,
-- and the keys they count under now (emptied at each commit).
CREATE TEMP TABLE IF NOT EXISTS outcome_touched (
    school_year     smallint,
    issued_month    date,
    site_code       text,
    program_code    text,
    assessment_code text
) ON COMMIT DELETE ROWS;
