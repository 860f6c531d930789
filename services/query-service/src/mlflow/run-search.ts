// runs/search: MLflow's request → the shared run query (search/run-query.ts), with offset-based page tokens like MLflow's.
import type { ClickHouse, RunRow } from '@runstream/clickhouse';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { FilterSyntaxError } from '../search/run-filter-parser.ts';
import { queryRuns } from '../search/run-query.ts';
import { invalid } from './mlflow-errors.ts';
import { int64 } from './mlflow-values.ts';

const VIEW_STAGES: Record<string, string[]> = { ACTIVE_ONLY: ['active'], DELETED_ONLY: ['deleted'], ALL: ['active', 'deleted'] };

export async function searchRuns(ch: ClickHouse, b: Record<string, unknown>): Promise<{ runs: RunRow[]; nextPageToken?: string }> {
  const experimentIds = Array.isArray(b.experiment_ids) ? b.experiment_ids.map(String) : [];
  if (experimentIds.length === 0) throw invalid('experiment_ids must contain at least one experiment id');
  const maxResults = int64(b.max_results, 'max_results', 1000);
  if (maxResults < 1 || maxResults > 50_000) throw invalid(`Invalid value ${maxResults} for parameter 'max_results' supplied: between 1 and 50000`);
  const stages = VIEW_STAGES[String(b.run_view_type ?? 'ACTIVE_ONLY')];
  if (!stages) throw invalid(`Invalid run_view_type ${JSON.stringify(b.run_view_type)}: ACTIVE_ONLY, DELETED_ONLY or ALL`);
  const offset = b.page_token ? decodePageToken(String(b.page_token), (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;
  try {
    const result = await queryRuns(ch, {
      experimentIds,
      stages,
      ...(typeof b.filter === 'string' ? { filter: b.filter } : {}),
      orderBy: Array.isArray(b.order_by) ? b.order_by.map(String) : [],
      limit: maxResults,
      offset,
    });
    return { runs: result.runs, ...(result.hasMore ? { nextPageToken: encodePageToken(offset + maxResults) } : {}) };
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw invalid(err.message);
    throw err;
  }
}
