/**
 * GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec) parsed
 * by our own small processor on busboy, instead of graphql-upload-minimal's `processRequest`.
 *
 * Why our own (docs/decisions.md, "Issue 10"): graphql-upload-minimal 1.6.4 listens to the parser's
 * `'error'` with `once`, then calls `parser.destroy()`; busboy's `_destroy` re-derives the end-state
 * error ("Malformed part header", "Unexpected end of form") and emits a second `'error'` that nobody
 * listens to, so one malformed body kills the process. Its `deepSet` also walks inherited properties
 * (`variables.toString.call` writes onto `Object.prototype.toString`). Here:
 * - every emitter we create (the parser and each file stream) has a permanent `'error'` listener from
 *   the moment it exists, and the first failure settles everything once ({@link fail});
 * - `map` paths may only walk own properties of plain objects and arrays under an operation's
 *   `variables`, and must end at an own `null` placeholder ({@link placeUpload});
 * - a file over the size limit stops parsing at once: the resolver sees a 413 on the file stream, the
 *   answer says `Connection: close`, and the rest of the body is discarded for at most
 *   {@link LINGER_MS} after the answer before the socket is closed (not read to the end).
 *
 * Uploads are graphql-upload-minimal's `Upload` objects, so its `GraphQLUpload` scalar and the
 * `FileUpload` type keep working unchanged.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import busboy, { type Busboy } from 'busboy';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Upload, type FileUpload } from 'graphql-upload-minimal';

/** What graphql-upload-minimal's `Upload` has at run time beyond its typings (pinned by multipart-upload.test.ts). */
type PendingUpload = Upload & { resolve(file: FileUpload): void; reject(error: Error): void };

/** How long (ms) an answered request whose body was refused may still be read and discarded before its socket is destroyed. */
export const LINGER_MS = 1000;

/** An error of the multipart request, answered with `status` (4xx) and `graphqlCode`. */
export class MultipartError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    message: string,
    readonly graphqlCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST',
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface MultipartOptions {
  /** Largest file, bytes. */
  maxFileSize: number;
  /** Most files per request. */
  maxFiles: number;
  /** Largest `operations` or `map` field, bytes (default 1 MB, as JSON bodies). */
  maxFieldSize?: number;
}

const SPEC = 'https://github.com/jaydenseric/graphql-multipart-request-spec';
/** Header lines allowed per part (Content-Disposition, Content-Type, Content-Transfer-Encoding, and slack). */
const MAX_HEADER_PAIRS = 8;
/** Names that would reach a prototype or a constructor through assignment. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True when `key` names an own entry of `container` (a canonical index below the length for arrays). */
function ownKey(container: Record<string, unknown> | unknown[], key: string): boolean {
  if (FORBIDDEN_KEYS.has(key)) return false;
  if (Array.isArray(container)) return /^(0|[1-9]\d{0,8})$/.test(key) && Number(key) < container.length;
  return Object.prototype.hasOwnProperty.call(container, key);
}

/**
 * Puts `upload` at `path` of `operations` (a `map` entry). The path must be `variables.<…>` (or
 * `<index>.variables.<…>` for a batch, which the request-shape guard then refuses), walk only own
 * properties of plain objects and arrays, and end at an own property whose value is `null` (the
 * spec's placeholder). @throws MultipartError 400 otherwise.
 */
export function placeUpload(operations: unknown, path: string, upload: Upload): void {
  const keys = path.split('.');
  const invalid = () =>
    new MultipartError(
      400,
      `Invalid path '${path.slice(0, 200)}' in the 'map' multipart field: it must name a null variable of the operation (${SPEC}).`,
    );
  const start = Array.isArray(operations) ? 1 : 0;
  if (keys.length < start + 2 || keys[start] !== 'variables') throw invalid();
  let container: unknown = operations;
  for (let index = 0; index < keys.length - 1; index++) {
    if (!(isPlainObject(container) || Array.isArray(container)) || !ownKey(container, keys[index])) throw invalid();
    container = (container as Record<string, unknown>)[keys[index]];
  }
  const last = keys[keys.length - 1];
  if (
    !(isPlainObject(container) || Array.isArray(container)) ||
    !ownKey(container, last) ||
    (container as Record<string, unknown>)[last] !== null
  )
    throw invalid();
  // defineProperty, not assignment: no setter of any kind can run.
  Object.defineProperty(container, last, { value: upload, writable: true, enumerable: true, configurable: true });
}

/**
 * Closes the connection of a request whose body we stopped reading: the answer carries
 * `Connection: close`, the rest of the body is discarded meanwhile (so the client can read the
 * answer rather than meet a reset), and the socket is destroyed {@link LINGER_MS} after the answer if
 * the body still has not ended.
 */
function closeAfterAnswer(req: IncomingMessage, res: Response): void {
  if (req.complete) return;
  if (!res.headersSent) res.setHeader('Connection', 'close');
  req.resume();
  const destroyLater = () => {
    setTimeout(() => {
      if (!req.complete) req.socket?.destroy();
    }, LINGER_MS).unref();
  };
  if (res.writableFinished) destroyLater();
  else res.once('finish', destroyLater);
}

/**
 * Express middleware: for a `multipart/form-data` request, parses `operations`, then `map`, sets
 * `req.body` to the operations with an `Upload` at each mapped path and calls `next()` while the
 * files still stream (a resolver reads them); a malformed request is answered through `next(error)`
 * with a {@link MultipartError} (400, or 413 for limits). Other requests pass through.
 *
 * The operations are handed on (`next()`) when the first mapped file part begins, or when the form
 * ends: every malformed byte before a file (a bad part header, a NUL in a file name, a stray field)
 * is answered here with a 400, before any resolver runs; what goes wrong inside a file (cut, over the
 * limit) reaches the resolver as an error of its file stream.
 */
export function multipartUploads(options: MultipartOptions): RequestHandler {
  const maxFieldSize = options.maxFieldSize ?? 1_000_000;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('multipart/form-data')) {
      next();
      return;
    }
    let parser: Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: {
          fieldSize: maxFieldSize,
          fields: 2,
          files: options.maxFiles,
          fileSize: options.maxFileSize,
          parts: options.maxFiles + 2,
          headerPairs: MAX_HEADER_PAIRS,
        },
      });
    } catch (error) {
      next(new MultipartError(400, `Malformed multipart request: ${(error as Error).message}.`));
      return;
    }

    let operations: unknown;
    let uploads: Map<string, PendingUpload> | null = null;
    let handedOff = false;
    let failure: MultipartError | null = null;
    /** For each file stream handed to a resolver and still open: ends it with an error. */
    const openFiles = new Set<(error: MultipartError) => void>();

    /** Settles the request once: every pending upload rejected, open files destroyed, parsing stopped. */
    const handOff = (): void => {
      handedOff = true;
      req.body = operations;
      next();
    };

    const fail = (error: MultipartError): void => {
      if (failure) return;
      failure = error;
      req.unpipe(parser);
      // Not synchronously: we may be inside one of busboy's own event emissions, and it goes on using
      // its state after emitting (e.g. it marks the file stream truncated after 'limit').
      setImmediate(() => parser.destroy());
      for (const upload of uploads?.values() ?? []) if (!upload.file) upload.reject(error);
      for (const breakFile of [...openFiles]) breakFile(error);
      closeAfterAnswer(req, res);
      if (!handedOff) {
        handedOff = true;
        next(error);
      }
    };

    // Permanent listeners: busboy may emit 'error' again while or after it is destroyed.
    parser.on('error', (error: Error) => fail(new MultipartError(400, `Malformed multipart body: ${error.message}.`)));
    // 'partsLimit' is emitted when the count *reaches* the limit; busboy skips any later part itself.
    parser.on('fieldsLimit', () => fail(new MultipartError(400, `Only the 'operations' and 'map' fields are allowed (${SPEC}).`)));
    parser.on('filesLimit', () => fail(new MultipartError(413, `At most ${options.maxFiles} file(s) per request.`)));

    // busboy passes `undefined` for a part without a `name` parameter.
    parser.on('field', (rawName: string | undefined, value: string, info: { nameTruncated: boolean; valueTruncated: boolean }) => {
      if (failure) return;
      const name = rawName ?? '';
      if (info.valueTruncated || info.nameTruncated) {
        fail(new MultipartError(413, `The '${name.slice(0, 50)}' multipart field exceeds ${maxFieldSize} bytes.`));
        return;
      }
      if (name === 'operations' && operations === undefined) {
        try {
          operations = JSON.parse(value) as unknown;
        } catch {
          fail(new MultipartError(400, `Invalid JSON in the 'operations' multipart field (${SPEC}).`));
          return;
        }
        if (operations === null || typeof operations !== 'object')
          fail(new MultipartError(400, `The 'operations' multipart field must be an object or an array (${SPEC}).`));
        return;
      }
      if (name === 'map' && operations !== undefined && uploads === null) {
        let map: unknown;
        try {
          map = JSON.parse(value) as unknown;
        } catch {
          fail(new MultipartError(400, `Invalid JSON in the 'map' multipart field (${SPEC}).`));
          return;
        }
        if (!isPlainObject(map)) {
          fail(new MultipartError(400, `The 'map' multipart field must be an object (${SPEC}).`));
          return;
        }
        const entries = Object.entries(map);
        if (entries.length > options.maxFiles) {
          fail(new MultipartError(413, `At most ${options.maxFiles} file(s) per request.`));
          return;
        }
        const placed = new Map<string, PendingUpload>();
        for (const [fieldName, paths] of entries) {
          if (!Array.isArray(paths) || paths.length === 0 || paths.some((path) => typeof path !== 'string')) {
            fail(new MultipartError(400, `The 'map' entry '${fieldName.slice(0, 50)}' must be a non-empty array of paths (${SPEC}).`));
            return;
          }
          const upload = new Upload() as PendingUpload;
          placed.set(fieldName, upload);
          try {
            for (const path of paths as string[]) placeUpload(operations, path, upload);
          } catch (error) {
            fail(error as MultipartError);
            return;
          }
        }
        uploads = placed;
        return;
      }
      fail(
        new MultipartError(
          400,
          `Unexpected multipart field '${name.slice(0, 50)}': the fields are 'operations', then 'map', then the files (${SPEC}).`,
        ),
      );
    });

    parser.on('file', (rawName: string | undefined, stream: Readable, info: { filename?: string; encoding: string; mimeType: string }) => {
      stream.on('error', () => undefined);
      const name = rawName ?? '';
      if (failure) {
        stream.resume();
        return;
      }
      if (uploads === null) {
        stream.resume();
        fail(new MultipartError(400, `Misordered multipart fields: files must follow 'map' (${SPEC}).`));
        return;
      }
      const upload = uploads.get(name);
      if (!upload || upload.file) {
        // A part no path names (or a second part of the same name): discarded, as the spec allows.
        stream.resume();
        return;
      }
      // The resolver gets a stream of our own: whatever goes wrong in the part (cut, over the limit)
      // destroys it with a MultipartError carrying its status, and a stream that failed before the
      // resolver asked for it makes createReadStream() throw that error instead of hanging.
      const out = new PassThrough();
      out.on('error', () => undefined);
      let partError: MultipartError | null = null;
      const breakPart = (error: MultipartError) => {
        partError ??= error;
        stream.unpipe(out);
        out.destroy(partError);
        openFiles.delete(breakPart);
      };
      openFiles.add(breakPart);
      out.once('close', () => openFiles.delete(breakPart));
      stream.on('error', (error: Error) =>
        breakPart(error instanceof MultipartError ? error : new MultipartError(400, `The upload was cut: ${error.message}.`)),
      );
      stream.on('limit', () => {
        const error = new MultipartError(413, `The file is larger than ${options.maxFileSize} bytes, the upload limit.`);
        breakPart(error);
        // Stop reading the body: the connection closes after the answer instead of reading to the end.
        fail(error);
      });
      stream.pipe(out);
      let given = false;
      const file: FileUpload = {
        fieldName: name,
        filename: info.filename ?? '',
        mimetype: info.mimeType,
        encoding: info.encoding,
        createReadStream: () => {
          if (partError) throw partError;
          if (given) throw new MultipartError(400, 'An upload can be read once.');
          given = true;
          return out as unknown as ReturnType<FileUpload['createReadStream']>;
        },
      };
      upload.resolve(file);
      if (!handedOff) handOff();
    });

    parser.on('close', () => {
      if (failure) return;
      if (uploads === null) {
        fail(new MultipartError(400, `Missing multipart field '${operations === undefined ? 'operations' : 'map'}' (${SPEC}).`));
        return;
      }
      for (const upload of uploads.values()) if (!upload.file) upload.reject(new MultipartError(400, 'File missing in the request.'));
      if (!handedOff) handOff();
    });

    // A client that goes away mid-body: whatever waits on the upload learns it now.
    req.once('close', () => {
      if (!req.complete) fail(new MultipartError(499, 'The request was disconnected during the upload.'));
    });
    req.on('error', () => undefined);
    req.pipe(parser);
  };
}
