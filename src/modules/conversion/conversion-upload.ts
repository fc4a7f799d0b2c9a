/**
 * The files of a `convertMelody` request (conversion.service.ts): the audio streamed into storage under
 * a size cap, the optional melody file read into memory under its own, and what a client-supplied file
 * name may show.
 */
import { PassThrough } from 'node:stream';
import type { FileUpload } from 'graphql-upload-minimal';
import { ValidationError } from '../../audio/errors.js';
import type { UserErrorData } from '../../platform/api-errors.js';
import type { Storage } from '../../platform/storage.js';
import { userErrorsFrom } from './conversion-user-errors.js';

/** Largest melody file, bytes (1 MB: a MIDI or MusicXML melody is a few kB). */
export const MAX_MELODY_BYTES = 1024 * 1024;

/** The melody part of a request, read into memory, or why it could not be. */
type MelodyUpload = { ok: true; bytes: Uint8Array; fileName: string } | { ok: false; userError: UserErrorData };

/**
 * A display-safe version of a client-supplied file name: its last path segment only, control and
 * unusual characters replaced, no leading dots, at most 120 characters. Informational only: storage
 * keys never contain it.
 */
export function sanitizeFileName(raw: string | null | undefined): string {
  const base =
    String(raw ?? '')
      .split(/[/\\]/)
      .pop() ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[^\p{L}\p{N} ._()-]/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 120);
  return clean === '' ? 'upload' : clean;
}

/**
 * Reads the melody part into memory with {@link MAX_MELODY_BYTES} counted on the way; past the cap the
 * rest is drained and dropped so the multipart parser can go on to the other parts. Never rejects.
 */
export async function readMelodyUpload(upload: Promise<FileUpload>, maxBytes: number): Promise<MelodyUpload> {
  const tooLargeError = (): MelodyUpload => ({ ok: false, userError: userErrorsFrom(fileTooLarge(maxBytes), 'melody')[0] });
  const interrupted: MelodyUpload = {
    ok: false,
    userError: { code: 'UPLOAD_INTERRUPTED', field: 'melody', message: 'The melody file did not arrive completely; please send it again.' },
  };
  let file: FileUpload;
  let stream: NodeJS.ReadableStream;
  try {
    file = await upload;
  } catch (error) {
    if (httpStatusOf(error) === 413) return tooLargeError();
    return { ok: false, userError: { code: 'NO_FILE', field: 'melody', message: 'The melody part of the request carries no file.' } };
  }
  try {
    // Throws the part's error when it failed before being read (multipart-upload.ts).
    stream = file.createReadStream() as unknown as NodeJS.ReadableStream;
  } catch (error) {
    return httpStatusOf(error) === 413 ? tooLargeError() : interrupted;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tooLarge = false;
  return new Promise<MelodyUpload>((resolve) => {
    stream.on('data', (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    stream.on('limit', () => (tooLarge = true));
    stream.on('error', (error: Error) => resolve(httpStatusOf(error) === 413 || tooLarge ? tooLargeError() : interrupted));
    stream.on('end', () => {
      if (tooLarge || (stream as { truncated?: boolean }).truncated) resolve(tooLargeError());
      else resolve({ ok: true, bytes: Buffer.concat(chunks), fileName: sanitizeFileName(file.filename) });
    });
    // Destroyed without an error or an end: settles anyway (a second resolve is ignored).
    stream.on('close', () => resolve(interrupted));
  });
}

export function fileTooLarge(maxBytes: number): ValidationError {
  return new ValidationError([
    {
      code: 'FILE_TOO_LARGE',
      message: `The file is larger than ${Math.round((maxBytes / (1024 * 1024)) * 10) / 10} MB, the upload limit.`,
      value: null,
      limit: maxBytes,
    },
  ]);
}

/** Errors of graphql-upload-minimal carry an HTTP status (413 when the file passed maxFileSize). */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Streams the upload into storage. The busboy file stream is piped through a PassThrough so that,
 * whatever happens to the write, the rest of the upload can still be drained (a destroyed busboy
 * stream would stall the multipart parser and leave the request hanging).
 * @returns bytes stored. @throws ValidationError FILE_TOO_LARGE; the upload's own errors.
 */
export async function receiveUpload(storage: Storage, file: FileUpload, key: string, maxBytes: number): Promise<number> {
  const upload = file.createReadStream() as unknown as NodeJS.ReadableStream & { truncated?: boolean; destroyed?: boolean };
  const pass = new PassThrough();
  let limitHit = false;
  const onLimit = () => {
    limitHit = true;
    pass.destroy(fileTooLarge(maxBytes));
  };
  const onError = (error: Error) => pass.destroy(error);
  upload.on('limit', onLimit);
  upload.on('error', onError);
  upload.pipe(pass);
  try {
    const { size } = await storage.write(key, pass, { maxBytes });
    if (limitHit || upload.truncated) throw fileTooLarge(maxBytes);
    return size;
  } catch (error) {
    upload.unpipe(pass);
    if (!upload.destroyed) upload.resume();
    throw error;
  } finally {
    upload.off('limit', onLimit);
    upload.off('error', onError);
  }
}
