-- Once 0063 is recorded, the unpartitioned dataset rows it copied are no longer fed or read.
DROP TABLE IF EXISTS dataset_rows_v1;
