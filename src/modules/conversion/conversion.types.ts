/**
 * The GraphQL object types of a conversion, separate from the database entity: the entity is the
 * row, these are what clients see. {@link toConversionObject} builds one from a row and signs the
 * result file links at that moment (read time), so every answer carries links valid for the full
 * `SIGNED_URL_TTL_SECONDS` and no link is ever stored.
 *
 * Read-side resolvers (queries, subscription, node) reuse these types; extra fields such as
 * `feedback` are added by field resolvers on `@Resolver(() => ConversionObject)` classes.
 */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import {
  ConversionPriority,
  ConversionStatus,
  type ConversionRecord,
  type ErrorData,
  type InputMetadata,
  type QualityData,
  type StageTimestamps,
  type WarningData,
} from './conversion.entity.js';
import { isStageName, stageField, StageName, type StageField } from '../../audio/stages.js';
import { conversionGlobalId } from '../node/global-id.js';
import { NodeInterface } from '../node/node.types.js';
import { Quota } from '../quota/quota.types.js';
import { signUrl, type SignedUrlConfig } from '../../platform/signed-url.js';

export { ConversionPriority, ConversionStatus };

registerEnumType(ConversionPriority, {
  name: 'ConversionPriority',
  description:
    'Which queue a conversion waits in: HIGH jobs start before NORMAL ones, NORMAL before LOW (first come, first served within a level).',
});

registerEnumType(ConversionStatus, {
  name: 'ConversionStatus',
  description: 'Where a conversion is in its life: PENDING (queued), PROCESSING, then COMPLETED, FAILED or CANCELLED.',
});

// The GraphQL enum `ConversionStage` is the service's stage names (src/audio/stages.ts).
registerEnumType(StageName, { name: 'ConversionStage', description: 'A step of the conversion pipeline, in the order they run.' });

@ObjectType({ description: 'When one stage started and, once done, finished.' })
export class StageTiming {
  @Field(() => Date)
  startedAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType('StageTimestamps', { description: 'Start and end of every stage that has started; null for stages not reached.' })
export class StageTimestampsObject implements Record<StageField, StageTiming | null> {
  @Field(() => StageTiming, { nullable: true }) validation!: StageTiming | null;
  @Field(() => StageTiming, { nullable: true }) pitchExtraction!: StageTiming | null;
  @Field(() => StageTiming, { nullable: true }) lyrics!: StageTiming | null;
  @Field(() => StageTiming, { nullable: true }) synthesis!: StageTiming | null;
  @Field(() => StageTiming, { nullable: true }) qualityCheck!: StageTiming | null;
  @Field(() => StageTiming, { nullable: true }) finalization!: StageTiming | null;
}

@ObjectType('InputMetadata', { description: 'What the uploaded recording turned out to be (read from its bytes, not its name).' })
export class InputMetadataObject {
  @Field({ description: 'The uploaded file name, sanitised; informational only.' })
  fileName!: string;

  @Field({ description: 'Container detected from the bytes: wav, mp3, m4a, aac, ogg or flac.' })
  format!: string;

  @Field({ description: 'Codec inside the container, e.g. pcm_s16le, mp3, aac, vorbis, opus, flac.' })
  codec!: string;

  @Field(() => Float, { description: 'Seconds.' })
  durationSeconds!: number;

  @Field(() => Int, { description: 'Hz.' })
  sampleRate!: number;

  @Field(() => Int)
  channels!: number;

  @Field(() => Int, { description: 'Bytes.' })
  sizeBytes!: number;

  @Field(() => Int, { nullable: true, description: 'Overall bits per second, when known.' })
  bitrate!: number | null;
}

@ObjectType({ description: 'The melody the analysis found.' })
export class MelodyInfo {
  @Field(() => Int) noteCount!: number;
  @Field(() => Int) phraseCount!: number;
  @Field(() => String, { nullable: true, description: 'e.g. "G major"; null when no key was clear.' }) key!: string | null;
  @Field(() => Float, { nullable: true, description: 'Beats per minute; null when no steady tempo was found.' }) tempoBpm!: number | null;
  @Field(() => Float, { description: 'Seconds.' }) durationSeconds!: number;
}

@ObjectType({ description: 'Facts about the sung lyrics.' })
export class LyricsInfo {
  @Field(() => Int) lineCount!: number;
  @Field(() => Int) syllableCount!: number;
  @Field() genre!: string;
  @Field() mood!: string;
  @Field(() => Float, { description: '0..1' }) qualityScore!: number;
  @Field({ description: 'Who wrote the lyrics: the service or the user.' }) source!: string;
}

@ObjectType({ description: 'One sung syllable and when it is sung.' })
export class SungSyllable {
  @Field({ description: 'The syllable as written, e.g. `sum`.' }) text!: string;
  @Field(() => Float, { description: 'Onset, seconds from the start of the vocals.' }) start!: number;
  @Field(() => Float, { description: 'Release of its last note (a melisma holds it over several), seconds.' }) end!: number;
  @Field({ description: 'True when a word ends with this syllable (a space follows it when the line is shown).' }) endsWord!: boolean;
}

@ObjectType({ description: 'One lyric line as sung, with the time of each syllable (for karaoke display).' })
export class SungLine {
  @Field() text!: string;
  @Field(() => Float, { description: 'Onset of the first syllable, seconds.' }) start!: number;
  @Field(() => Float, { description: 'Release of the last syllable, seconds.' }) end!: number;
  @Field(() => [SungSyllable]) syllables!: SungSyllable[];
}

@ObjectType({ description: 'A note of the melody the analysis found (or the melody file gave).' })
export class MelodyNote {
  @Field(() => Float, { description: 'Onset, seconds.' }) start!: number;
  @Field(() => Float, { description: 'Release, seconds.' }) end!: number;
  @Field(() => Float, { description: 'Centre pitch as a float MIDI number (69 = A4 = 440 Hz), before any transposition into the voice.' })
  midi!: number;
  @Field({ description: 'True when the transcription was unsure of it (worth checking).' }) lowConfidence!: boolean;
}

@ObjectType('ConversionResult', {
  description: 'The outputs of a completed conversion. URLs are signed when read and expire at `urlsExpireAt`.',
})
export class ConversionResultObject {
  @Field({ description: 'The sung vocals, 44.1 kHz 16-bit mono WAV (audio/wav).' })
  vocalsUrl!: string;

  @Field({ description: 'The vocals compressed (audio/mpeg or audio/ogg, see compressedFormat).' })
  compressedAudioUrl!: string;

  @Field({ description: 'mp3 or opus.' })
  compressedFormat!: string;

  @Field({ description: 'Standard MIDI File with one lyric event per note (audio/midi).' })
  midiUrl!: string;

  @Field({ description: 'MusicXML 4.0 score with lyrics.' })
  musicXmlUrl!: string;

  @Field({ description: 'The full JSON report (application/json).' })
  reportUrl!: string;

  @Field(() => Date)
  urlsExpireAt!: Date;

  @Field()
  lyrics!: string;

  @Field(() => MelodyInfo)
  melody!: MelodyInfo;

  @Field(() => LyricsInfo)
  lyricsInfo!: LyricsInfo;

  @Field(() => [SungLine], {
    description: "The lyrics line by line with each syllable's time; empty for results made before times were kept.",
  })
  lines!: SungLine[];

  @Field(() => [MelodyNote], { description: "The melody's notes in time order; empty for results made before notes were kept." })
  notes!: MelodyNote[];
}

@ObjectType({ description: 'Quality measurements of the delivered vocals.' })
export class Quality {
  @Field(() => Float, {
    nullable: true,
    description: 'Share (0..1) of sung frames within 50 cents of the melody; null when nothing voiced was found.',
  })
  pitchAccuracy!: number | null;

  @Field(() => Float, { description: '0..1' })
  lyricsQuality!: number;

  @Field(() => Float, { nullable: true, description: 'Integrated loudness, LUFS (ITU-R BS.1770-4); null for silence.' })
  integratedLufs!: number | null;

  @Field(() => Float, { nullable: true, description: 'True peak, dBTP; null for silence.' })
  truePeakDbtp!: number | null;
}

@ObjectType({ description: 'Something worth knowing that did not stop the conversion.' })
export class Warning {
  @Field({ description: 'Stable machine code, e.g. EXTENSION_MISMATCH, LOW_SAMPLE_RATE, CLIPPING.' })
  code!: string;

  @Field()
  message!: string;

  @Field(() => StageName, { nullable: true })
  stage!: StageName | null;
}

@ObjectType({ description: 'Why a conversion failed.' })
export class ConversionError {
  @Field({
    description:
      'Stable machine code: VALIDATION_ERROR, AUDIO_PROCESSING_ERROR, AI_SERVICE_ERROR, TIMEOUT_ERROR, STORAGE_ERROR, ABORTED or UNKNOWN_ERROR.',
  })
  code!: string;

  @Field()
  message!: string;

  @Field({ description: 'True when the same request may succeed later.' })
  retryable!: boolean;
}

@ObjectType('Conversion', { description: 'One melody-to-vocals conversion.', implements: NodeInterface })
export class ConversionObject implements NodeInterface {
  @Field(() => ID, { description: 'Opaque global id (works with `node`).' })
  id!: string;

  /** The row's UUID (not exposed; for field resolvers and logs). */
  uuid!: string;

  /** The owner's user id (not exposed; for field resolvers' ownership checks). */
  userId!: string;

  @Field(() => ConversionStatus)
  status!: ConversionStatus;

  @Field(() => StageName, { nullable: true, description: 'The stage running now, or the last one reached.' })
  stage!: StageName | null;

  @Field(() => Int, { description: 'Percent done, 0..100, never decreasing.' })
  progress!: number;

  @Field(() => StageTimestampsObject)
  stageTimestamps!: StageTimestampsObject;

  @Field(() => InputMetadataObject)
  input!: InputMetadataObject;

  @Field()
  prompt!: string;

  @Field()
  genre!: string;

  @Field()
  mood!: string;

  @Field()
  voice!: string;

  @Field(() => Float, { nullable: true, description: 'The seed asked for (a whole number), or null for the default.' })
  seed!: number | null;

  @Field(() => String, { nullable: true, description: 'Lyrics the user supplied (null when the service writes them).' })
  userLyrics!: string | null;

  @Field(() => ConversionResultObject, { nullable: true, description: 'Present once COMPLETED.' })
  result!: ConversionResultObject | null;

  @Field(() => Quality, { nullable: true, description: 'Present once COMPLETED.' })
  quality!: Quality | null;

  @Field(() => [Warning])
  warnings!: Warning[];

  @Field(() => ConversionError, { nullable: true, description: 'Present once FAILED (or CANCELLED, code ABORTED).' })
  error!: ConversionError | null;

  @Field(() => Int, { description: 'How many times the job was retried after a retryable failure.' })
  retryCount!: number;

  @Field(() => ConversionPriority, { description: 'The queue it waits in (convertMelody `priority`).' })
  priority!: ConversionPriority;

  @Field(() => Int, { nullable: true, description: 'Milliseconds the worker spent on the conversion, once finished.' })
  processingMs!: number | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;
}

@ObjectType({
  description:
    'A problem with the input: a stable code, the input field it concerns (null for the request as a whole) and a message for people.',
})
export class UserError {
  @Field({
    description:
      'Stable machine code; each mutation documents its own (convertMelody: NO_FILE, EMPTY_FILE, FILE_TOO_LARGE, UNSUPPORTED_FORMAT, FORMAT_NOT_ALLOWED, CORRUPT_FILE, TRUNCATED_FILE, TOO_SHORT, TOO_LONG, SILENT, TOO_MANY_CHANNELS, SAMPLE_RATE_TOO_LOW, UPLOAD_INTERRUPTED, PROMPT_TOO_SHORT, PROMPT_TOO_LONG, INVALID_GENRE, INVALID_MOOD, LYRICS_TOO_LONG, UNKNOWN_VOICE, INVALID_SEED, INVALID_IDEMPOTENCY_KEY).',
  })
  code!: string;

  @Field(() => String, { nullable: true, description: 'Name of the input field, e.g. `audio` or `prompt`.' })
  field!: string | null;

  @Field()
  message!: string;
}

@ObjectType({ description: 'The answer to convertMelody: the queued conversion, or userErrors saying what to fix.' })
export class ConvertMelodyPayload {
  @Field(() => ConversionObject, { nullable: true, description: 'Null when there are userErrors.' })
  conversion!: ConversionObject | null;

  @Field(() => [Warning], { description: 'Warnings about the upload (e.g. EXTENSION_MISMATCH, LOW_SAMPLE_RATE, CLIPPING).' })
  warnings!: Warning[];

  @Field(() => Int, {
    nullable: true,
    description: 'Rough seconds until the conversion completes once started: 5 s + 0.1 × the recording length.',
  })
  estimatedSeconds!: number | null;

  @Field(() => [UserError])
  userErrors!: UserError[];

  @Field(() => Quota, {
    description: 'Your quota after this call (a unit taken by a queued conversion, or given back when nothing was queued).',
  })
  quota!: Quota;
}

/** Turns a storage key into a signed link (see src/platform/signed-url.ts). */
export type FileUrlSigner = (key: string) => string;

function toStage(value: string | null | undefined): StageName | null {
  return isStageName(value) ? value : null;
}

function toStageTimestamps(raw: StageTimestamps | null | undefined): StageTimestampsObject {
  const out = new StageTimestampsObject();
  for (const stage of Object.values(StageName)) {
    const times = raw?.[stage];
    out[stageField(stage)] = times?.startedAt
      ? { startedAt: new Date(times.startedAt), finishedAt: times.finishedAt ? new Date(times.finishedAt) : null }
      : null;
  }
  return out;
}

export function toWarning(warning: WarningData): Warning {
  return { code: warning.code, message: warning.message, stage: toStage(warning.stage) };
}

function toInput(input: InputMetadata): InputMetadataObject {
  return {
    fileName: input.fileName,
    format: input.format,
    codec: input.codec,
    durationSeconds: input.durationSeconds,
    sampleRate: input.sampleRate,
    channels: input.channels,
    sizeBytes: input.sizeBytes,
    bitrate: input.bitrate === null || input.bitrate === undefined ? null : Math.round(input.bitrate),
  };
}

function toQuality(quality: QualityData | null): Quality | null {
  return quality ? { ...quality } : null;
}

function toError(error: ErrorData | null): ConversionError | null {
  return error ? { code: error.code, message: error.message, retryable: error.retryable } : null;
}

/**
 * Defines `key` on `target` as computed on its first read and kept from then on. A field the
 * operation does not select is never computed: `history` asks for a few scalars of each conversion,
 * and signing five result links and building the stage timestamps for every row was a tenth of its
 * CPU (issue 16's profile).
 */
function lazyField<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]) => Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: true,
    get() {
      const value = compute();
      settle(value);
      return value;
    },
    set(value: T[K]) {
      settle(value);
    },
  });
}

/**
 * The GraphQL view of a conversion row. `sign` turns storage keys into links; `urlsExpireAt` is when
 * those links stop working (now + SIGNED_URL_TTL_SECONDS).
 */
export function toConversionObject(row: ConversionRecord, sign: FileUrlSigner, urlsExpireAt: Date): ConversionObject {
  // Read now, so a field computed later shows the row as it was when presented.
  const { result, stageTimestamps } = row;
  const seed = row.seed === null || row.seed === undefined ? null : Number(row.seed);
  const object = Object.assign(new ConversionObject(), {
    id: conversionGlobalId(row.id),
    uuid: row.id,
    userId: row.user.id,
    status: row.status,
    stage: toStage(row.stage),
    progress: row.progress,
    input: toInput(row.input),
    prompt: row.prompt,
    genre: row.genre,
    mood: row.mood,
    voice: row.voice,
    seed,
    userLyrics: row.lyrics,
    quality: toQuality(row.quality),
    warnings: (row.warnings ?? []).map(toWarning),
    error: toError(row.error),
    retryCount: row.retryCount,
    priority: row.priority ?? ConversionPriority.NORMAL,
    processingMs: row.processingMs,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
  });
  lazyField(object, 'stageTimestamps', () => toStageTimestamps(stageTimestamps));
  lazyField(object, 'result', () =>
    result
      ? {
          vocalsUrl: sign(result.files.vocalsWav),
          compressedAudioUrl: sign(result.files.vocalsCompressed),
          compressedFormat: result.compressedFormat,
          midiUrl: sign(result.files.midi),
          musicXmlUrl: sign(result.files.musicXml),
          reportUrl: sign(result.files.report),
          urlsExpireAt,
          lyrics: result.lyrics,
          melody: { ...result.melody },
          lyricsInfo: { ...result.lyricsInfo },
          lines: (result.timedLines ?? []).map((line) => ({
            ...line,
            syllables: line.syllables.map((s) => ({ ...s, endsWord: s.endsWord ?? true })),
          })),
          notes: (result.notes ?? []).map((note) => ({ ...note })),
        }
      : null,
  );
  return object;
}

/**
 * {@link toConversionObject} with links signed now by `config` (what resolvers call):
 * `presentConversion(row, ctx.services.config)`.
 */
export function presentConversion(row: ConversionRecord, config: SignedUrlConfig, now: number = Date.now()): ConversionObject {
  const expires = (Math.floor(now / 1000) + config.signedUrlTtlSeconds) * 1000;
  return toConversionObject(row, (key) => signUrl(config, key, now), new Date(expires));
}
