/**
 * A completed conversion: the vocals in an audio player, the karaoke lyrics, key, tempo and a piano
 * roll of the notes, the downloads, and the feedback form (1–5 stars, a comment, favourite).
 */
import { useRef, useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { AppSubmitFeedbackDocument, type ConversionListeningFragment } from '../generated/graphql';
import { Karaoke, usePlayerTime } from '../components/karaoke';
import { PianoRoll } from '../components/piano-roll';
import { Waveform } from '../components/waveform';

type Result = NonNullable<ConversionListeningFragment['result']>;

export function Listen({ conversion, result }: { conversion: ConversionListeningFragment; result: Result }) {
  const audio = useRef<HTMLAudioElement>(null);
  const time = usePlayerTime(audio);
  const compressed = result.compressedFormat.toUpperCase();
  return (
    <>
      <section aria-labelledby="listen-title">
        <h2 id="listen-title">Listen</h2>
        <audio ref={audio} id="vocals" controls preload="metadata" src={result.compressedAudioUrl} aria-label="Sung vocals" />
        <Waveform
          url={result.compressedAudioUrl}
          time={time}
          onSeek={(seconds) => {
            if (audio.current) audio.current.currentTime = seconds;
          }}
        />
        <Karaoke
          lines={result.lines}
          time={time}
          onSeek={(seconds) => {
            if (audio.current) audio.current.currentTime = seconds;
          }}
        />
      </section>
      <section aria-labelledby="melody-title">
        <h2 id="melody-title">The melody</h2>
        <dl className="facts">
          <div>
            <dt>Key</dt>
            <dd>{result.melody.key ?? 'unclear'}</dd>
          </div>
          <div>
            <dt>Tempo</dt>
            <dd>{result.melody.tempoBpm ? `${Math.round(result.melody.tempoBpm)} BPM` : 'no steady beat'}</dd>
          </div>
          <div>
            <dt>Notes</dt>
            <dd>{result.melody.noteCount}</dd>
          </div>
          <div>
            <dt>Length</dt>
            <dd>{result.melody.durationSeconds.toFixed(1)} s</dd>
          </div>
        </dl>
        <PianoRoll notes={result.notes} duration={result.melody.durationSeconds} time={time} />
      </section>
      <section aria-labelledby="downloads-title">
        <h2 id="downloads-title">Downloads</h2>
        <ul className="downloads">
          <li>
            <a href={result.vocalsUrl} download="vocals.wav">
              Vocals (WAV)
            </a>
          </li>
          <li>
            <a href={result.compressedAudioUrl} download={`vocals.${result.compressedFormat}`}>
              Vocals ({compressed})
            </a>
          </li>
          <li>
            <a href={result.midiUrl} download="score.mid">
              Score (MIDI)
            </a>
          </li>
          <li>
            <a href={result.musicXmlUrl} download="score.musicxml">
              Score (MusicXML)
            </a>
          </li>
          <li>
            <a href={result.reportUrl} download="report.json">
              Report (JSON)
            </a>
          </li>
        </ul>
      </section>
      <FeedbackForm conversion={conversion} />
    </>
  );
}

function FeedbackForm({ conversion }: { conversion: ConversionListeningFragment }) {
  const [rating, setRating] = useState(conversion.feedback?.rating ?? 0);
  const [comment, setComment] = useState(conversion.feedback?.comment ?? '');
  const [favorite, setFavorite] = useState(conversion.feedback?.favorite ?? false);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [submit, { loading }] = useMutation(AppSubmitFeedbackDocument);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (rating < 1) {
      setStatus({ ok: false, text: 'Choose 1 to 5 stars first.' });
      return;
    }
    try {
      const { data } = await submit({ variables: { input: { conversionId: conversion.id, rating, comment, favorite } } });
      const problems = data?.submitFeedback.userErrors ?? [];
      setStatus(
        problems.length
          ? { ok: false, text: problems.map((p) => p.message).join(' ') }
          : { ok: true, text: 'Thank you — your rating is saved.' },
      );
    } catch (error) {
      setStatus({ ok: false, text: (error as Error).message });
    }
  }

  return (
    <section aria-labelledby="feedback-title">
      <h2 id="feedback-title">Your opinion</h2>
      <form onSubmit={onSubmit} className="feedback">
        <fieldset className="stars">
          <legend>Rating</legend>
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n} className={n <= rating ? 'on' : undefined}>
              <input type="radio" name="rating" value={n} checked={rating === n} onChange={() => setRating(n)} />
              <span aria-hidden="true">★</span>
              <span className="visually-hidden">
                {n} {n === 1 ? 'star' : 'stars'}
              </span>
            </label>
          ))}
        </fieldset>
        <label htmlFor="comment">Comment (optional)</label>
        <textarea id="comment" rows={3} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} />
        <label className="checkbox">
          <input type="checkbox" checked={favorite} onChange={(e) => setFavorite(e.target.checked)} /> Favourite
        </label>
        <button type="submit" disabled={loading}>
          {loading ? 'Saving…' : 'Save rating'}
        </button>
        <p role="status" className={status && !status.ok ? 'field-error' : 'saved'}>
          {status?.text ?? ''}
        </p>
      </form>
    </section>
  );
}
