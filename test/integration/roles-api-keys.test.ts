/**
 * Roles and API keys against the real API (HTTP, PostgreSQL, Redis): `stats` and the admin mutations
 * answer admins only (FORBIDDEN for USER and PARTNER, UNAUTHENTICATED for nobody); API keys are
 * returned once, stored only as a SHA-256 hash, authenticate as their owner with their own role
 * through `Authorization: Bearer mvk_…` or `X-Api-Key`, and stop working the moment they are revoked.
 */
import { createHash } from 'node:crypto';
import { Role } from '../../src/modules/user/user.entity.js';
import { Cleanup } from '../support/service-harness.js';
import { postGraphQL, startApi, type ApiEnv } from '../support/api-harness.js';

interface Body<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function post<T>(api: ApiEnv, query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<Body<T>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Body<T>;
}

const STATS = '{ stats { verdict queue { waiting } database { reachable } } }';
const WHO = '{ quota { daily { used limit } } }';
const CREATE_KEY = `mutation($u: String!, $n: String!, $r: Role) {
  createApiKey(userId: $u, name: $n, role: $r) { key apiKey { id userId role name prefix createdAt revokedAt } }
}`;
const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';

interface CreatedKey {
  createApiKey: {
    key: string;
    apiKey: { id: string; userId: string; role: string; name: string; prefix: string; revokedAt: string | null };
  };
}

const codes = (body: Body<unknown>) => (body.errors ?? []).map((e) => e.extensions?.code);

describe('roles and API keys', () => {
  const cleanup = new Cleanup();
  let api: ApiEnv;
  let admin: string;
  beforeAll(async () => {
    api = await startApi(cleanup);
    admin = api.token('admin-1', Role.ADMIN);
  });
  afterAll(() => cleanup.run());

  async function createKey(userId: string, role?: Role): Promise<CreatedKey['createApiKey']> {
    const { body } = await postGraphQL<CreatedKey>(api, CREATE_KEY, { u: userId, n: `key of ${userId}`, r: role ?? null }, admin);
    expect(body.errors).toBeUndefined();
    return body.data!.createApiKey;
  }

  it('shows stats to admins only', async () => {
    const asAdmin = await postGraphQL<{ stats: { verdict: string; database: { reachable: boolean } } }>(api, STATS, {}, admin);
    expect(asAdmin.body.errors).toBeUndefined();
    expect(asAdmin.body.data!.stats.database.reachable).toBe(true);
    for (const role of [Role.USER, Role.PARTNER]) {
      const { body } = await postGraphQL(api, STATS, {}, api.token('someone', role));
      expect(codes(body)).toEqual(['FORBIDDEN']);
      expect(body.data).toBeNull();
    }
    expect(codes((await postGraphQL(api, STATS, {})).body)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses every admin mutation to non-admins', async () => {
    const user = api.token('mallory', Role.USER);
    const attempts: [string, Record<string, unknown>][] = [
      ['mutation { setUserQuota(userId: "mallory", daily: 1000, monthly: 1000) { userId } }', {}],
      [CREATE_KEY, { u: 'mallory', n: 'mine', r: 'ADMIN' }],
      [REVOKE_KEY, { id: '00000000-0000-4000-8000-000000000000' }],
    ];
    for (const [query, variables] of attempts) {
      expect(codes((await postGraphQL(api, query, variables, user)).body)).toEqual(['FORBIDDEN']);
      expect(codes((await postGraphQL(api, query, variables, api.token('partner', Role.PARTNER))).body)).toEqual(['FORBIDDEN']);
    }
    const rows = await api.services.orm.em
      .getConnection()
      .execute<{ n: string }[]>('select count(*)::text as n from "api_keys" where "user_id" = ?', ['mallory']);
    expect(rows[0].n).toBe('0');
    expect((await postGraphQL<{ quota: { daily: { limit: number } } }>(api, WHO, {}, user)).body.data!.quota.daily.limit).toBe(10);
  });

  it('returns a key once and stores only its SHA-256 hash and public prefix', async () => {
    const created = await createKey('partner-a');
    expect(created.key).toMatch(/^mvk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toMatchObject({ userId: 'partner-a', role: 'PARTNER', name: 'key of partner-a', revokedAt: null });
    expect(created.key.startsWith(`${created.apiKey.prefix}_`)).toBe(true);
    const rows = await api.services.orm.em
      .getConnection()
      .execute<Record<string, unknown>[]>('select * from "api_keys" where "id" = ?', [created.apiKey.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
    // The secret is everything after the prefix (it may itself contain '_': base64url).
    const secret = created.key.slice(created.apiKey.prefix.length + 1);
    expect(secret).toHaveLength(43);
    for (const value of Object.values(rows[0])) expect(String(value)).not.toContain(secret);
  });

  it('authenticates a key as its owner with its role, through Authorization: Bearer and X-Api-Key', async () => {
    const partner = await createKey('partner-b');
    await postGraphQL(api, 'mutation { setUserQuota(userId: "partner-b", daily: 7, monthly: 70) { userId } }', {}, admin);
    const ways: Record<string, string>[] = [{ authorization: `Bearer ${partner.key}` }, { 'x-api-key': partner.key }];
    for (const headers of ways) {
      const who = await post<{ quota: { daily: { limit: number } } }>(api, WHO, {}, headers);
      expect(who.errors).toBeUndefined();
      expect(who.data!.quota.daily.limit).toBe(7);
      expect(codes(await post(api, STATS, {}, headers))).toEqual(['FORBIDDEN']);
    }
    const adminKey = await createKey('ops-bot', Role.ADMIN);
    const stats = await post<{ stats: { verdict: string } }>(api, STATS, {}, { 'x-api-key': adminKey.key });
    expect(stats.errors).toBeUndefined();
    expect(stats.data!.stats.verdict).toBe('OK');
  });

  it("records a key's first use in last_used_at, and answers every later request with it", async () => {
    const created = await createKey('partner-touch');
    const lastUsed = async () =>
      (
        await api.services.orm.em
          .getConnection()
          .execute<{ last_used_at: string | null }[]>('select "last_used_at" from "api_keys" where "id" = ?', [created.apiKey.id])
      )[0]!.last_used_at;
    expect(await lastUsed()).toBeNull();
    for (let i = 0; i < 3; i++) expect((await post(api, WHO, {}, { 'x-api-key': created.key })).errors).toBeUndefined();
    expect(await lastUsed()).not.toBeNull();
  });

  it('rejects a revoked key at once, and a key whose secret is wrong', async () => {
    const created = await createKey('partner-c');
    const headers = { authorization: `Bearer ${created.key}` };
    expect((await post(api, WHO, {}, headers)).errors).toBeUndefined();

    const revoked = await postGraphQL<{ revokeApiKey: { id: string; revokedAt: string | null } }>(
      api,
      REVOKE_KEY,
      { id: created.apiKey.id },
      admin,
    );
    expect(revoked.body.errors).toBeUndefined();
    expect(revoked.body.data!.revokeApiKey.revokedAt).not.toBeNull();
    expect(codes(await post(api, WHO, {}, headers))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await post(api, WHO, {}, { 'x-api-key': created.key }))).toEqual(['UNAUTHENTICATED']);
    // Revoking again keeps the first revocation time.
    const again = await postGraphQL<{ revokeApiKey: { revokedAt: string } }>(api, REVOKE_KEY, { id: created.apiKey.id }, admin);
    expect(again.body.data!.revokeApiKey.revokedAt).toBe(revoked.body.data!.revokeApiKey.revokedAt);

    const live = await createKey('partner-d');
    const tampered = `${live.key.slice(0, -1)}${live.key.endsWith('A') ? 'B' : 'A'}`;
    expect(codes(await post(api, WHO, {}, { authorization: `Bearer ${tampered}` }))).toEqual(['UNAUTHENTICATED']);
    expect(codes((await postGraphQL(api, REVOKE_KEY, { id: '00000000-0000-4000-8000-000000000000' }, admin)).body)).toEqual(['NOT_FOUND']);
  });

  it("lets an admin change a user's limits, and null restores the defaults", async () => {
    const set = await postGraphQL<{ setUserQuota: { userId: string; quota: { daily: { limit: number }; monthly: { limit: number } } } }>(
      api,
      'mutation { setUserQuota(userId: "vip", daily: 50, monthly: 500) { userId quota { daily { limit } monthly { limit } } } }',
      {},
      admin,
    );
    expect(set.body.data!.setUserQuota).toEqual({ userId: 'vip', quota: { daily: { limit: 50 }, monthly: { limit: 500 } } });
    const back = await postGraphQL<{ setUserQuota: { quota: { daily: { limit: number }; monthly: { limit: number } } } }>(
      api,
      'mutation { setUserQuota(userId: "vip", daily: null, monthly: null) { quota { daily { limit } monthly { limit } } } }',
      {},
      admin,
    );
    expect(back.body.data!.setUserQuota.quota).toEqual({ daily: { limit: 10 }, monthly: { limit: 100 } });
    expect(codes((await postGraphQL(api, 'mutation { setUserQuota(userId: "vip", daily: -1) { userId } }', {}, admin)).body)).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});
