/**
 * The user's conversions, newest first: Relay paging (`first`/`after`, "Show more" appends the next
 * page through the cache's relayStylePagination), a status filter, and the live status of the ones
 * still running (polled while any is, since one subscription per row would spend the per-user
 * subscription limit).
 */
import { useState } from 'react';
import { useQuery } from '@apollo/client/react';
import { AppHistoryDocument, type ConversionStatus } from '../generated/graphql';
import { Link, PageHeading } from '../components/common';
import { conversionPath } from '../router';

const PAGE = 10;
const STATUSES: ConversionStatus[] = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const LABELS: Record<ConversionStatus, string> = {
  PENDING: 'Waiting',
  PROCESSING: 'Running',
  COMPLETED: 'Done',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

export function HistoryPage() {
  const [status, setStatus] = useState<ConversionStatus | ''>('');
  const variables = { first: PAGE, status: status === '' ? null : status };
  const { data, loading, error, fetchMore } = useQuery(AppHistoryDocument, { variables, notifyOnNetworkStatusChange: true });
  const history = data?.history;
  const anyRunning = history?.edges.some((e) => e.node.status === 'PENDING' || e.node.status === 'PROCESSING') ?? false;
  useQuery(AppHistoryDocument, { variables, pollInterval: 3000, skip: !anyRunning, fetchPolicy: 'network-only' });

  return (
    <main>
      <PageHeading>Your conversions</PageHeading>
      <div className="filter">
        <label htmlFor="status-filter">Show</label>
        <select id="status-filter" value={status} onChange={(e) => setStatus(e.target.value as ConversionStatus | '')}>
          <option value="">All</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {LABELS[s]}
            </option>
          ))}
        </select>
        {history && <span aria-live="polite">{history.totalCount} in all</span>}
      </div>
      {error && <p role="alert">{error.message}</p>}
      {history && history.edges.length === 0 && (
        <p>
          No conversions yet. <Link href="/">Make your first song</Link>.
        </p>
      )}
      {history && history.edges.length > 0 && (
        <ul className="history">
          {history.edges.map(({ node }) => (
            <li key={node.id}>
              <Link href={conversionPath(node.id)}>{node.prompt}</Link>
              <span className={`status status-${node.status.toLowerCase()}`}>
                {LABELS[node.status]}
                {node.status === 'PROCESSING' ? ` ${node.progress} %` : ''}
              </span>
              <span className="meta">
                {node.genre} · {node.mood} · <time dateTime={node.createdAt}>{new Date(node.createdAt).toLocaleString()}</time>
              </span>
            </li>
          ))}
        </ul>
      )}
      {history?.pageInfo.hasNextPage && (
        <button type="button" disabled={loading} onClick={() => void fetchMore({ variables: { after: history.pageInfo.endCursor } })}>
          {loading ? 'Loading…' : 'Show more'}
        </button>
      )}
    </main>
  );
}
