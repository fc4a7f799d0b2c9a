/**
 * Cursors of the `history` connection. A cursor names one row by its sort key `(created_at, id)`, the
 * key of the keyset predicate `(created_at, id) < (cursor)`, so pages stay stable when rows are added
 * in front. `createdAt` is kept as PostgreSQL's own microsecond text (not a JS Date, which has only
 * milliseconds) so the comparison is exact. Encoded as base64url of `v1|<createdAt>|<uuid>`: opaque to
 * clients, versioned for us.
 */

export interface HistoryCursor {
  /** ISO 8601 UTC with microseconds, e.g. `2026-11-21T18:00:00.123456Z`. */
  createdAt: string;
  id: string;
}

const ISO_MICROS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeHistoryCursor(cursor: HistoryCursor): string {
  return Buffer.from(`v1|${cursor.createdAt}|${cursor.id}`, 'utf8').toString('base64url');
}

/**
 * True when `text` (ISO_MICROS) names an instant of the proleptic Gregorian calendar that PostgreSQL
 * accepts as written: year 1–9999, a day that exists in its month (2026-02-30 does not), hours 0–23,
 * minutes and seconds 0–59. `Date.parse` alone is not enough: V8 accepts Feb 30 and 24:00.
 */
function isRealInstant(text: string): boolean {
  const match = ISO_MICROS.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
}

/** Null when `text` is not a cursor this server issued (any version we no longer read included). */
export function decodeHistoryCursor(text: string): HistoryCursor | null {
  if (text.length === 0 || text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const parts = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  const [, createdAt, id] = parts;
  if (!isRealInstant(createdAt) || !UUID.test(id)) return null;
  return { createdAt, id };
}
