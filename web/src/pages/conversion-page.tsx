/**
 * One conversion. While it runs: `conversionProgress` (the first event is the stored state, so a
 * reload or a late visit picks up where it is), one progress bar with the stage, its message and a
 * Cancel button. Failed: the error in words and what to do next. Completed: the Listen section.
 */
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import {
  AppCancelConversionDocument,
  AppConversionDocument,
  AppConversionProgressDocument,
  type ConversionStage,
  type ConversionStatus,
} from '../generated/graphql';
import { Link, PageHeading } from '../components/common';
import { Listen } from './listen';

export const STAGES: { stage: ConversionStage; label: string }[] = [
  { stage: 'VALIDATION', label: 'Checking the recording' },
  { stage: 'PITCH_EXTRACTION', label: 'Finding the notes' },
  { stage: 'LYRICS', label: 'Writing the lyrics' },
  { stage: 'SYNTHESIS', label: 'Singing' },
  { stage: 'QUALITY_CHECK', label: 'Checking the result' },
  { stage: 'FINALIZATION', label: 'Encoding the files' },
];

const RUNNING: ConversionStatus[] = ['PENDING', 'PROCESSING'];

/** What to do next after a failure, by the error's stable code. */
export function adviceFor(code: string, retryable: boolean): string {
  switch (code) {
    case 'VALIDATION_ERROR':
      return 'The recording could not be used as it is. Record again closer to the microphone, or upload another file (1 s to 5 min, one melody).';
    case 'ABORTED':
      return 'It was cancelled. Start a new conversion whenever you like.';
    case 'TIMEOUT_ERROR':
      return 'It took too long. Try a shorter recording, or try again later.';
    default:
      return retryable
        ? 'This was a problem on our side. Try the same recording again in a few minutes.'
        : 'This was a problem on our side. Try again; if it fails again, try a different recording.';
  }
}

export function ConversionPage({ id }: { id: string }) {
  const { data, loading, error, refetch } = useQuery(AppConversionDocument, { variables: { id } });
  const conversion = data?.conversion;
  const running = conversion ? RUNNING.includes(conversion.status) : false;
  // Once followed live, the bar stays (at 100 % or where it stopped) after the conversion ends.
  const [followed, setFollowed] = useState(false);
  useEffect(() => {
    if (running) setFollowed(true);
  }, [running]);

  if (loading && !data)
    return (
      <main aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  if (error)
    return (
      <main>
        <PageHeading>Could not load this conversion</PageHeading>
        <p role="alert">{error.message}</p>
      </main>
    );
  if (!conversion)
    return (
      <main>
        <PageHeading>Conversion not found</PageHeading>
        <p>There is no conversion of yours with this address. It may belong to someone else, or the link is wrong.</p>
        <p>
          <Link href="/history">See your conversions</Link>
        </p>
      </main>
    );

  return (
    <main>
      <PageHeading>“{conversion.prompt}”</PageHeading>
      <p className="meta">
        {conversion.genre} · {conversion.mood} · {conversion.voice} voice · started {new Date(conversion.createdAt).toLocaleString()}
      </p>
      {(running || followed) && <Progress id={id} running={running} onFinal={() => void refetch()} />}
      {conversion.status === 'FAILED' && conversion.error && (
        <section className="failure" aria-labelledby="failure-title">
          <h2 id="failure-title">It did not work</h2>
          <p>{conversion.error.message}</p>
          <p>
            <strong>What to do next:</strong> {adviceFor(conversion.error.code, conversion.error.retryable)}
          </p>
          <p>
            <Link href="/">Make a new song</Link>
          </p>
        </section>
      )}
      {conversion.status === 'CANCELLED' && (
        <section className="failure" aria-labelledby="cancelled-title">
          <h2 id="cancelled-title">Cancelled</h2>
          <p>{adviceFor('ABORTED', false)}</p>
          <p>
            <Link href="/">Make a new song</Link>
          </p>
        </section>
      )}
      {conversion.status === 'COMPLETED' && conversion.result && <Listen conversion={conversion} result={conversion.result} />}
    </main>
  );
}

function progressTitle(status: ConversionStatus | undefined, final: boolean): string {
  if (final) return status === 'COMPLETED' ? 'Done' : status === 'CANCELLED' ? 'Stopped' : 'Stopped with an error';
  return status === 'PROCESSING' ? 'Making your song' : 'Waiting for a free singer…';
}

function Progress({ id, running, onFinal }: { id: string; running: boolean; onFinal: () => void }) {
  const { data, error } = useSubscription(AppConversionProgressDocument, { variables: { id } });
  const [cancel, { loading: cancelling }] = useMutation(AppCancelConversionDocument);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const event = data?.conversionProgress;
  // The parent's callback changes every render; the final event must call it once.
  const onFinalRef = useRef(onFinal);
  onFinalRef.current = onFinal;
  useEffect(() => {
    if (event?.final) onFinalRef.current();
  }, [event?.final]);
  const progress = event?.progress ?? 0;
  const stageIndex =
    event?.final && event.status === 'COMPLETED' ? STAGES.length : event?.stage ? STAGES.findIndex((s) => s.stage === event.stage) : -1;
  return (
    <section className="progress" aria-labelledby="progress-title">
      <h2 id="progress-title">{progressTitle(event?.status, event?.final ?? false)}</h2>
      <progress id="conversion-progress" max={100} value={progress} aria-label="Conversion progress" aria-valuetext={`${progress} %`} />
      <p className="progress-figure" aria-live="polite">
        <strong data-testid="progress-percent">{progress} %</strong>
        {event?.message ? ` — ${event.message}` : ''}
      </p>
      <ol className="stages">
        {STAGES.map((s, i) => (
          <li
            key={s.stage}
            className={i < stageIndex ? 'done' : i === stageIndex ? 'active' : undefined}
            aria-current={i === stageIndex ? 'step' : undefined}
          >
            {i + 1}. {s.label}
          </li>
        ))}
      </ol>
      {error && <p role="alert">Live progress was interrupted ({error.message}). Reload the page to follow it again.</p>}
      {running && !event?.final && (
        <button
          type="button"
          disabled={cancelling}
          onClick={async () => {
            setCancelError(null);
            const answer = await cancel({ variables: { id } });
            const problems = answer.data?.cancelConversion.userErrors ?? [];
            if (problems.length) setCancelError(problems.map((p) => p.message).join(' '));
            onFinal();
          }}
        >
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
      {cancelError && <p role="alert">{cancelError}</p>}
    </section>
  );
}
