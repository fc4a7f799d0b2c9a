/**
 * API keys for partner integrations: `mvk_<prefix>_<secret>`, where the 12-hex-digit prefix is public
 * (stored in clear, unique, used to find the row) and the whole key is stored only as its SHA-256
 * (a 256-bit random secret needs no slow hash: there is nothing to guess from a dictionary). The
 * plaintext is shown once, by `createApiKey`. A key authenticates as its owner with the role stored
 * on the key, until `revokeApiKey` sets `revoked_at`.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { executePrepared } from '../../platform/database.js';
import type { AuthUser } from '../../platform/auth.js';
import { Role } from '../user/user.entity.js';

export const API_KEY_PREFIX = 'mvk_';
const KEY_PATTERN = /^mvk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyRecord {
  id: string;
  userId: string;
  role: Role;
  name: string;
  /** `mvk_<12 hex>`: enough to recognise a key in lists and logs, useless without the secret. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedApiKey extends ApiKeyRecord {
  /** The whole key; never stored, never shown again. */
  key: string;
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function toRecord(row: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    role: row.role as Role,
    name: String(row.name),
    prefix: `${API_KEY_PREFIX}${String(row.prefix)}`,
    createdAt: new Date(row.created_at as string),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at as string) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at as string) : null,
  };
}

const COLUMNS = '"id", "user_id", "role", "name", "prefix", "created_at", "last_used_at", "revoked_at"';

/** How often one process records a key's `last_used_at`, ms. */
const TOUCH_INTERVAL_MS = 60_000;
/** When this process last sent the `last_used_at` update, by key prefix. */
const LAST_TOUCHED = new Map<string, number>();

export class ApiKeyService {
  constructor(private readonly em: EntityManager) {}

  /** Issues a key for `userId` (the user row is created when missing). */
  async create(userId: string, name: string, role: Role = Role.PARTNER): Promise<CreatedApiKey> {
    const prefix = randomBytes(6).toString('hex');
    const key = `${API_KEY_PREFIX}${prefix}_${randomBytes(32).toString('base64url')}`;
    await this.em.execute('insert into "users" ("id", "role") values (?, ?) on conflict ("id") do nothing', [userId, role]);
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `insert into "api_keys" ("id", "user_id", "role", "name", "prefix", "key_hash") values (?, ?, ?, ?, ?, ?) returning ${COLUMNS}`,
      [randomUUID(), userId, role, name, prefix, sha256Hex(key)],
    );
    return { ...toRecord(rows[0]), key };
  }

  /** Revokes a key. @returns the key as it is now, or null when no key has this id. */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `update "api_keys" set "revoked_at" = coalesce("revoked_at", now()) where "id" = ? returning ${COLUMNS}`,
      [id],
    );
    return rows.length ? toRecord(rows[0]) : null;
  }

  /** The caller a key stands for; null for a malformed, unknown or revoked key. */
  async authenticate(key: string): Promise<AuthUser | null> {
    const match = KEY_PATTERN.exec(key);
    if (!match) return null;
    // Prepared: this runs on every request made with a key.
    const rows = await executePrepared<{ user_id: string; role: Role; key_hash: string }>(
      this.em,
      'api-key-authenticate',
      'select "user_id", "role", "key_hash" from "api_keys" where "prefix" = ? and "revoked_at" is null',
      [match[1]],
    );
    if (rows.length !== 1) return null;
    const expected = Buffer.from(rows[0].key_hash, 'hex');
    const actual = Buffer.from(sha256Hex(key), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    // Best effort bookkeeping, at most once a minute per key: the statement's condition says so across
    // replicas, and this process does not even send it more than once a minute per key (it was a second
    // database round trip on every request).
    const now = Date.now();
    if (now - (LAST_TOUCHED.get(match[1]) ?? -Infinity) < TOUCH_INTERVAL_MS) return { id: rows[0].user_id, role: rows[0].role };
    if (LAST_TOUCHED.size >= 10_000) LAST_TOUCHED.clear();
    LAST_TOUCHED.set(match[1], now);
    await this.em
      .execute(
        `update "api_keys" set "last_used_at" = now() where "prefix" = ? and ("last_used_at" is null or "last_used_at" < now() - interval '1 minute')`,
        [match[1]],
      )
      .catch(() => undefined);
    return { id: rows[0].user_id, role: rows[0].role };
  }
}
