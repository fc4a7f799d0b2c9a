/**
 * Input of `convertMelody`, the GraphQL form of {@link ConvertMelodyRequest} (`implements` keeps the two
 * in step). Field checks live in the service (validateRequest from the pipeline and
 * the upload validation), not in the type, so every problem comes back as a `userError` with a
 * stable code instead of a GraphQL validation error.
 */
import { Field, Float, InputType } from 'type-graphql';
import { GraphQLUpload, type FileUpload } from 'graphql-upload-minimal';
import { ConversionPriority } from './conversion.types.js';
import type { ConvertMelodyRequest } from './conversion.service.js';

@InputType({ description: 'A melody recording and what the song should be about.' })
export class ConvertMelodyInput implements ConvertMelodyRequest {
  @Field(() => GraphQLUpload, {
    description:
      'The recording (GraphQL multipart request): WAV, MP3, M4A, AAC, OGG (Vorbis or Opus), FLAC or WebM (what browsers record), 1 s to 5 min, at most MAX_UPLOAD_BYTES (default 50 MB).',
  })
  audio!: Promise<FileUpload>;

  @Field(() => GraphQLUpload, {
    nullable: true,
    description:
      'A corrected melody (another part of the multipart request): a Standard MIDI File or MusicXML, at most 1 MB. Its notes are sung instead of the ones transcribed from the recording (report melody.source `file`).',
  })
  melody?: Promise<FileUpload> | null;

  @Field({ description: 'What the song is about: 10–500 characters.' })
  prompt!: string;

  @Field({ description: 'e.g. pop, ballad, folk, hip-hop: 1–40 characters.' })
  genre!: string;

  @Field({ description: 'e.g. happy, romantic, sad: 1–40 characters.' })
  mood!: string;

  @Field(() => String, { nullable: true, description: 'Lyrics to sing instead of written ones (at most 5,000 characters).' })
  lyrics?: string | null;

  @Field(() => String, { nullable: true, description: 'Voice: `high` (default) or `low`.' })
  voice?: string | null;

  @Field(() => Float, { nullable: true, description: 'Whole number 0–4294967295 that makes lyrics and voice reproducible; default 1.' })
  seed?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Up to 200 characters. The same key from the same user returns the first conversion made with it instead of starting another.',
  })
  idempotencyKey?: string | null;

  @Field(() => ConversionPriority, {
    nullable: true,
    description:
      'Which queue the job waits in: HIGH jobs start before NORMAL ones, NORMAL before LOW. Default NORMAL; HIGH is for PARTNER and ADMIN callers (others get userError PRIORITY_NOT_ALLOWED).',
  })
  priority?: ConversionPriority | null;
}
