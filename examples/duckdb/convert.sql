-- Converting a wide claim table in DuckDB with the table `crosswalk export` writes.
--
--   crosswalk export -o crosswalk.csv            (with the options and --decisions of your run)
--   duckdb -c ".read examples/duckdb/convert.sql"   (in the folder holding claims.csv)
--
-- The claims are the DE-SynPUF inpatient layout: diagnoses in ADMTNG_ICD9_DGNS_CD and
-- ICD9_DGNS_CD_1..10, procedures in ICD9_PRCDR_CD_1..6. Every column is read as text, so codes
-- keep their leading zeros. The result, `converted`, has the claims' columns with each code cell
-- rewritten, plus `review` (the cells that need a person, as `convert --audit` lists them) and
-- `cluster` (cells whose conversion is several codes: only `convert` places them in the group's
-- empty cells).

-- What convert --unmapped does with a cell the table has not got (malformed text, a code not in
-- the GEM): 'keep' (the default) or 'blank'. Set it before reading this file to change it.
SET VARIABLE unmapped = coalesce(getvariable('unmapped'), 'keep');

CREATE OR REPLACE TABLE claims AS
SELECT row_number() OVER () AS crosswalk_row, *
FROM read_csv('claims.csv', all_varchar = true, header = true);

CREATE OR REPLACE TABLE crosswalk AS
SELECT * FROM read_csv('crosswalk.csv', all_varchar = true, header = true);

-- One row per source code: what convert writes into the code's own cell.
CREATE OR REPLACE TABLE written AS
SELECT system, code,
       bool_or(needs_review = 'true') AS needs_review,
       bool_or(chosen = 'true') AS converted,
       any_value(target) FILTER (WHERE chosen = 'true' AND position = '1') AS target,
       any_value(target_dotted) FILTER (WHERE chosen = 'true' AND position = '1') AS target_dotted,
       coalesce(max(CAST(position AS INTEGER)) FILTER (WHERE chosen = 'true'), 0) AS positions
FROM crosswalk
GROUP BY system, code;

-- The code cells, one per row: column name, system and value.
CREATE OR REPLACE TABLE cells AS
SELECT crosswalk_row, col, 'icd9-dx' AS system, cell
FROM (UNPIVOT (SELECT crosswalk_row, COLUMNS('^(ADMTNG_ICD9_DGNS_CD|ICD9_DGNS_CD_[0-9]+)$') FROM claims)
      ON COLUMNS(* EXCLUDE (crosswalk_row)) INTO NAME col VALUE cell)
UNION ALL
SELECT crosswalk_row, col, 'icd9-proc' AS system, cell
FROM (UNPIVOT (SELECT crosswalk_row, COLUMNS('^ICD9_PRCDR_CD_[0-9]+$') FROM claims)
      ON COLUMNS(* EXCLUDE (crosswalk_row)) INTO NAME col VALUE cell);

-- Each cell joined to its code (spelled as the table spells it: no dot, upper case). A code the
-- table has not got (malformed text, a code not in the GEM) needs review and is kept or blanked
-- as `unmapped` says; one the table blanks has no target; a dotted cell gets the dotted target,
-- as convert writes it.
CREATE OR REPLACE TABLE converted_cells AS
SELECT c.crosswalk_row, c.col, c.cell,
       CASE WHEN w.code IS NULL AND getvariable('unmapped') = 'blank' THEN NULL
            WHEN w.code IS NULL OR NOT w.converted THEN c.cell
            WHEN w.target IS NULL THEN NULL
            WHEN contains(c.cell, '.') THEN w.target_dotted
            ELSE w.target END AS new_cell,
       coalesce(w.needs_review, true) AS review,
       coalesce(w.positions, 0) > 1 AS cluster
FROM cells c
LEFT JOIN written w
  ON w.system = c.system AND w.code = upper(replace(trim(c.cell), '.', ''))
WHERE trim(c.cell) <> '';

-- Back to one row per claim line: the other columns as they were, then the code columns
-- converted (a cell convert blanks is NULL, as an empty one is), then the two marks.
CREATE OR REPLACE TABLE converted AS
WITH wide AS (
    PIVOT (SELECT crosswalk_row, col, new_cell FROM converted_cells)
    ON col IN ('ADMTNG_ICD9_DGNS_CD', 'ICD9_DGNS_CD_1', 'ICD9_DGNS_CD_2', 'ICD9_DGNS_CD_3',
               'ICD9_DGNS_CD_4', 'ICD9_DGNS_CD_5', 'ICD9_DGNS_CD_6', 'ICD9_DGNS_CD_7',
               'ICD9_DGNS_CD_8', 'ICD9_DGNS_CD_9', 'ICD9_DGNS_CD_10', 'ICD9_PRCDR_CD_1',
               'ICD9_PRCDR_CD_2', 'ICD9_PRCDR_CD_3', 'ICD9_PRCDR_CD_4', 'ICD9_PRCDR_CD_5',
               'ICD9_PRCDR_CD_6')
    USING first(new_cell) GROUP BY crosswalk_row
), marks AS (
    SELECT crosswalk_row,
           string_agg(col, ' ' ORDER BY col) FILTER (WHERE review) AS review,
           string_agg(col, ' ' ORDER BY col) FILTER (WHERE cluster) AS cluster
    FROM converted_cells GROUP BY crosswalk_row
), other AS (
    SELECT COLUMNS(lambda c: NOT regexp_matches(c, '^(ADMTNG_ICD9_DGNS_CD|ICD9_DGNS_CD_[0-9]+|ICD9_PRCDR_CD_[0-9]+)$'))
    FROM claims
)
SELECT *
FROM other
LEFT JOIN wide USING (crosswalk_row)
LEFT JOIN marks USING (crosswalk_row)
ORDER BY crosswalk_row;
