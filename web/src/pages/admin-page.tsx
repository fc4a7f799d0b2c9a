/**
 * The operations dashboard (admins; loaded on demand, with uPlot, so other users never download it):
 * live from `serviceStatsUpdated` (queue depth and throughput charted over the last few minutes,
 * health verdict and its issues, circuit breakers) and `analytics(window)` refreshed every 10 s
 * (totals and success rate, processing-time percentiles, errors by code, top genres and moods,
 * ratings, quota use).
 */
import { useEffect, useRef, useState } from 'react';
import { useQuery, useSubscription } from '@apollo/client/react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { AppAnalyticsDocument, AppServiceStatsDocument, type AnalyticsWindow } from '../generated/graphql';
import { PageHeading } from '../components/common';

/** Points kept in the live chart (one per tick, ~1 s apart). */
const KEPT = 300;

interface Series {
  time: number[];
  waiting: number[];
  active: number[];
  /** Jobs completed since the previous tick. */
  throughput: number[];
}

function QueueChart({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width: box.current.clientWidth || 600,
        height: 220,
        series: [
          {},
          { label: 'Waiting', stroke: '#1d4ed8', width: 2 },
          { label: 'Running', stroke: '#b45309', width: 2 },
          { label: 'Completed per tick', stroke: '#166534', width: 2 },
        ],
        axes: [{}, { label: 'jobs' }],
      },
      [[], [], [], []],
      box.current,
    );
    const resize = () => box.current && plot.current?.setSize({ width: box.current.clientWidth, height: 220 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([series.time, series.waiting, series.active, series.throughput]);
  }, [series]);
  return (
    <div
      ref={box}
      className="chart"
      role="img"
      aria-label={`Queue over the last ${series.time.length} seconds: ${series.waiting.at(-1) ?? 0} waiting, ${series.active.at(-1) ?? 0} running`}
    />
  );
}

const percent = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`);
const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

export default function AdminPage() {
  const [window, setWindow] = useState<AnalyticsWindow>('LAST_DAY');
  const [series, setSeries] = useState<Series>({ time: [], waiting: [], active: [], throughput: [] });
  const lastCompleted = useRef<number | null>(null);
  const { data: live, error: liveError } = useSubscription(AppServiceStatsDocument, {
    onData: ({ data }) => {
      const update = data.data?.serviceStatsUpdated;
      if (!update?.queue) return;
      const completed = update.queue.completed;
      const done = lastCompleted.current === null ? 0 : Math.max(0, completed - lastCompleted.current);
      lastCompleted.current = completed;
      setSeries((s) => ({
        time: [...s.time, Date.parse(update.computedAt) / 1000].slice(-KEPT),
        waiting: [...s.waiting, update.queue!.waiting + update.queue!.delayed].slice(-KEPT),
        active: [...s.active, update.queue!.active].slice(-KEPT),
        throughput: [...s.throughput, done].slice(-KEPT),
      }));
    },
  });
  const { data, error } = useQuery(AppAnalyticsDocument, { variables: { window }, pollInterval: 10_000 });
  const stats = live?.serviceStatsUpdated;
  const a = data?.analytics;

  return (
    <main className="admin">
      <PageHeading>Operations</PageHeading>
      <section aria-labelledby="live-title">
        <h2 id="live-title">Live</h2>
        {liveError && <p role="alert">{liveError.message}</p>}
        <p>
          Health: <strong data-testid="verdict">{stats?.health.verdict ?? '…'}</strong> · update{' '}
          <span data-testid="tick">{stats?.tick ?? '—'}</span>
          {stats?.queue ? ` · ${stats.queue.waiting} waiting, ${stats.queue.active} running, ${stats.queue.failed} failed` : ''}
        </p>
        {stats && stats.health.issues.length > 0 && (
          <ul>
            {stats.health.issues.map((issue) => (
              <li key={issue.code}>{issue.message}</li>
            ))}
          </ul>
        )}
        <QueueChart series={series} />
        <h3>Circuit breakers</h3>
        {stats && stats.circuitBreakers.length === 0 && <p>No remote provider is configured.</p>}
        {stats && stats.circuitBreakers.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Breaker</th>
                <th scope="col">Process</th>
                <th scope="col">State</th>
                <th scope="col">Failures</th>
              </tr>
            </thead>
            <tbody>
              {stats.circuitBreakers.map((b) => (
                <tr key={`${b.name}@${b.process}`}>
                  <td>{b.name}</td>
                  <td>{b.process}</td>
                  <td>{b.state}</td>
                  <td>{b.consecutiveFailures}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="analytics-title">
        <h2 id="analytics-title">Analytics</h2>
        <label htmlFor="window">Window</label>{' '}
        <select id="window" value={window} onChange={(e) => setWindow(e.target.value as AnalyticsWindow)}>
          <option value="LAST_HOUR">Last hour</option>
          <option value="LAST_DAY">Last day</option>
          <option value="LAST_7_DAYS">Last 7 days</option>
          <option value="LAST_30_DAYS">Last 30 days</option>
        </select>
        {error && <p role="alert">{error.message}</p>}
        {a && (
          <div className="cards">
            <dl>
              <div>
                <dt>Conversions</dt>
                <dd data-testid="total">{a.conversions.total}</dd>
              </div>
              <div>
                <dt>Completed / failed / cancelled</dt>
                <dd>
                  {a.conversions.completed} / {a.conversions.failed} / {a.conversions.cancelled}
                </dd>
              </div>
              <div>
                <dt>Running now</dt>
                <dd>{a.conversions.inFlight}</dd>
              </div>
              <div>
                <dt>Success rate</dt>
                <dd>{percent(a.conversions.successRate)}</dd>
              </div>
              <div>
                <dt>Processing p50 / p95 / p99</dt>
                <dd>
                  {seconds(a.processingTimeMs.p50)} / {seconds(a.processingTimeMs.p95)} / {seconds(a.processingTimeMs.p99)}
                </dd>
              </div>
              <div>
                <dt>Ratings</dt>
                <dd>{a.ratings.count ? `${a.ratings.average?.toFixed(1)} ★ from ${a.ratings.count}` : 'none yet'}</dd>
              </div>
              <div>
                <dt>Quota used today</dt>
                <dd>
                  {a.quota.unitsToday} units by {a.quota.usersToday} users ({percent(a.quota.averageDailyUtilisation)} of their limit on
                  average; {a.quota.usersAtDailyLimit} at the limit)
                </dd>
              </div>
            </dl>
            <Counts title="Errors by code" rows={a.errorsByCode} />
            <Counts title="Top genres" rows={a.topGenres} />
            <Counts title="Top moods" rows={a.topMoods} />
          </div>
        )}
      </section>
    </main>
  );
}

function Counts({ title, rows }: { title: string; rows: { value: string; count: number }[] }) {
  const most = Math.max(1, ...rows.map((r) => r.count));
  return (
    <div>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul className="counts">
          {rows.map((r) => (
            <li key={r.value}>
              <span>{r.value}</span> <meter min={0} max={most} value={r.count} aria-label={`${r.value}: ${r.count}`} /> {r.count}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
