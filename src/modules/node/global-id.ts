/**
 * Opaque global object ids for `node(id)` (Relay Global Object Identification): standard base64 of
 * `<TypeName>:<localId>`, e.g. `Conversion:0b6f…` → `Q29udmVyc2lvbjowYjZm…`. Clients must treat them as
 * opaque; the server decodes them, and a malformed id simply identifies nothing (null), never a 500.
 */

/** Types that can be fetched through `node(id)`. */
export type NodeTypeName = 'Conversion';

const NODE_TYPES: ReadonlySet<string> = new Set<NodeTypeName>(['Conversion']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Encodes `type` and its local id into an opaque global id. */
export function toGlobalId(type: NodeTypeName, localId: string): string {
  return Buffer.from(`${type}:${localId}`, 'utf8').toString('base64');
}

/** Decodes a global id; null when it is not one of ours (bad base64, unknown type, empty local id). */
export function fromGlobalId(globalId: string): { type: NodeTypeName; id: string } | null {
  if (globalId.length === 0 || globalId.length > 200 || !BASE64.test(globalId)) return null;
  const text = Buffer.from(globalId, 'base64').toString('utf8');
  // Round trip: rejects strings that merely happen to decode (e.g. a bare UUID read as base64).
  if (Buffer.from(text, 'utf8').toString('base64') !== globalId) return null;
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const type = text.slice(0, colon);
  const id = text.slice(colon + 1);
  if (!NODE_TYPES.has(type) || id.length === 0) return null;
  return { type: type as NodeTypeName, id };
}

/**
 * The conversion UUID named by `id`: either a `Conversion` global id (what `Conversion.id` returns) or,
 * for convenience of logs and scripts, the raw UUID. Null when `id` names no conversion; callers answer
 * exactly as for a missing conversion.
 */
export function conversionUuidFromId(id: string): string | null {
  const trimmed = id.trim();
  if (UUID.test(trimmed)) return trimmed.toLowerCase();
  const decoded = fromGlobalId(trimmed);
  if (decoded?.type !== 'Conversion' || !UUID.test(decoded.id)) return null;
  return decoded.id.toLowerCase();
}

/** The global id of a conversion. */
export function conversionGlobalId(uuid: string): string {
  return toGlobalId('Conversion', uuid);
}
