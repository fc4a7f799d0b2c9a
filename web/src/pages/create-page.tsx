/**
 * Create: a melody (file picked, dropped or recorded), the prompt (10–500 characters, counted as the
 * API counts: spaces collapsed, ends trimmed), genre, mood, voice and optional own lyrics. The API's
 * `userErrors` are shown next to the field they name; the rest above the button.
 */
import { useState, type DragEvent, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { AppConvertMelodyDocument, AppQuotaDocument } from '../generated/graphql';
import { FieldError, PageHeading } from '../components/common';
import { Recorder } from '../components/recorder';
import { conversionPath, navigate } from '../router';

const GENRES = ['pop', 'ballad', 'folk', 'rock', 'hip-hop', 'country', 'jazz', 'blues', 'lullaby'];
const MOODS = ['happy', 'romantic', 'sad', 'nostalgic', 'hopeful', 'calm', 'energetic', 'angry'];
const FIELDS = ['audio', 'prompt', 'genre', 'mood', 'voice', 'lyrics'] as const;
type FieldName = (typeof FIELDS)[number];

/** The prompt's length as the API measures it. */
export const promptLength = (prompt: string) => prompt.replace(/\s+/g, ' ').trim().length;

export function CreatePage() {
  const [file, setFile] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  const [prompt, setPrompt] = useState('');
  const [genre, setGenre] = useState('pop');
  const [mood, setMood] = useState('happy');
  const [voice, setVoice] = useState('high');
  const [lyrics, setLyrics] = useState('');
  const [errors, setErrors] = useState<Partial<Record<FieldName | 'form', string>>>({});
  const [convert, { loading }] = useMutation(AppConvertMelodyDocument);

  const length = promptLength(prompt);
  const promptOk = length >= 10 && length <= 500;

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) setFile(dropped);
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const local: typeof errors = {};
    if (!file) local.audio = 'Choose, drop or record a melody first.';
    if (!promptOk) local.prompt = `The prompt must be 10–500 characters (it has ${length}).`;
    setErrors(local);
    if (Object.keys(local).length > 0 || !file) return;
    try {
      const { data } = await convert({
        variables: { input: { audio: file, prompt, genre, mood, voice, lyrics: lyrics.trim() === '' ? null : lyrics } },
        update(cache, { data: answer }) {
          if (answer) cache.writeQuery({ query: AppQuotaDocument, data: { quota: answer.convertMelody.quota } });
        },
      });
      const payload = data?.convertMelody;
      if (!payload) return;
      if (payload.userErrors.length > 0) {
        const next: typeof errors = {};
        for (const e of payload.userErrors) {
          const field = (FIELDS as readonly string[]).includes(e.field ?? '') ? (e.field as FieldName) : 'form';
          next[field] = next[field] ? `${next[field]} ${e.message}` : e.message;
        }
        setErrors(next);
        return;
      }
      if (payload.conversion) navigate(conversionPath(payload.conversion.id));
    } catch (error) {
      setErrors({ form: `The request failed: ${(error as Error).message}` });
    }
  }

  const describe = (field: FieldName, hint?: string) =>
    [hint, errors[field] ? `${field}-error` : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <main>
      <PageHeading>Make a song from a melody</PageHeading>
      <form onSubmit={onSubmit} noValidate>
        <fieldset>
          <legend>1. Your melody</legend>
          <div
            className={`dropzone${dragging ? ' dragging' : ''}`}
            onDragOver={(event) => {
              event.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <label htmlFor="audio">Audio file (WAV, MP3, M4A, OGG, FLAC or WebM; 1 s to 5 min) — choose one or drop it here</label>
            <input
              id="audio"
              name="audio"
              type="file"
              accept="audio/*,.wav,.mp3,.m4a,.aac,.ogg,.opus,.flac,.webm"
              aria-invalid={errors.audio ? true : undefined}
              aria-describedby={describe('audio', 'audio-chosen')}
              onChange={(event) => setFile(event.target.files?.[0] ?? null)}
            />
            <p id="audio-chosen" className="hint">
              {file ? `Chosen: ${file.name} (${Math.round(file.size / 1024)} kB)` : 'No file chosen yet.'}
            </p>
          </div>
          <p className="or">or</p>
          <Recorder onRecorded={setFile} />
          <FieldError id="audio-error" message={errors.audio} />
        </fieldset>

        <fieldset>
          <legend>2. The song</legend>
          <label htmlFor="prompt">What the song is about</label>
          <textarea
            id="prompt"
            name="prompt"
            rows={3}
            value={prompt}
            onChange={(event) => setPrompt(event.target.value)}
            aria-invalid={errors.prompt || (prompt !== '' && !promptOk) ? true : undefined}
            aria-describedby={describe('prompt', 'prompt-count')}
          />
          <p id="prompt-count" className={`hint${prompt !== '' && !promptOk ? ' warn' : ''}`} aria-live="polite">
            {length} characters · 10 to 500 needed
            {prompt !== '' && length < 10 ? ` (${10 - length} more)` : ''}
            {length > 500 ? ` (${length - 500} too many)` : ''}
          </p>
          <FieldError id="prompt-error" message={errors.prompt} />

          <div className="row">
            <SuggestedInput name="genre" label="Genre" value={genre} onChange={setGenre} suggestions={GENRES} error={errors.genre} />
            <SuggestedInput name="mood" label="Mood" value={mood} onChange={setMood} suggestions={MOODS} error={errors.mood} />
          </div>

          <fieldset className="inline" aria-describedby={describe('voice')}>
            <legend>Voice</legend>
            {[
              ['high', 'High'],
              ['low', 'Low'],
            ].map(([value, label]) => (
              <label key={value} className="radio">
                <input type="radio" name="voice" value={value} checked={voice === value} onChange={() => setVoice(value)} /> {label}
              </label>
            ))}
            <FieldError id="voice-error" message={errors.voice} />
          </fieldset>

          <label htmlFor="lyrics">Your own lyrics (optional; one line per phrase)</label>
          <textarea
            id="lyrics"
            name="lyrics"
            rows={4}
            value={lyrics}
            onChange={(e) => setLyrics(e.target.value)}
            aria-describedby={describe('lyrics')}
            aria-invalid={errors.lyrics ? true : undefined}
          />
          <FieldError id="lyrics-error" message={errors.lyrics} />
        </fieldset>

        <FieldError id="form-error" message={errors.form} />
        <button type="submit" className="primary" disabled={loading}>
          {loading ? 'Uploading…' : 'Make the song'}
        </button>
      </form>
    </main>
  );
}

/** A free-text field with suggestions (a datalist) and the API's error for it beneath. */
function SuggestedInput(props: {
  name: 'genre' | 'mood';
  label: string;
  value: string;
  onChange: (value: string) => void;
  suggestions: readonly string[];
  error: string | undefined;
}) {
  const { name, label, value, onChange, suggestions, error } = props;
  return (
    <div>
      <label htmlFor={name}>{label}</label>
      <input
        id={name}
        name={name}
        list={`${name}s`}
        value={value}
        maxLength={40}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={error ? `${name}-error` : undefined}
        aria-invalid={error ? true : undefined}
      />
      <datalist id={`${name}s`}>
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <FieldError id={`${name}-error`} message={error} />
    </div>
  );
}
