/**
 * `npm run bench:abuse`: what an abusive user costs everybody else (issue 10, holes 5 and 6), against
 * a real API process (`node dist/src/main.js api`, production mode, no worker: accepted uploads stay
 * queued) with its own database, Redis prefix and storage directory, all thrown away at the end.
 *
 * 1. Cost follows database work (hole 5): another user's `quota` query, one at a time for
 *    DURATION_MS, p50 and p99: alone; while 16 requests at a time of 330 aliases of
 *    `history(first: 0) { totalCount }` are sent (refused now: QUERY_TOO_COMPLEX); and while 16 at a
 *    time of the largest such request the cost limit still accepts.
 * 2. Upload decode fairness (hole 6): another user's normal upload (4 s WAV), one at a time, latency
 *    from first byte to payload: alone; and while one user keeps 6 uploads in flight of a FLAC that
 *    decodes to 300 s of 192 kHz stereo (refused after decoding). RATE_LIMIT_PER_MINUTE is off here,
 *    so the figure is the decode-slot share alone (with the limit on, refusals also throttle the user).
 * `--json` prints the raw figures.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ffmpegPath } from '../src/platform/ffmpeg-decoder.js';
import { Cleanup, createTestResources, mintToken } from '../test/support/service-harness.js';
import { startApiProcess } from '../test/support/service-processes.js';
import { toneWav } from '../test/support/hostile-inputs.js';

const DURATION_MS = 15_000;
const ABUSIVE_IN_FLIGHT_QUERIES = 16;
const ABUSIVE_IN_FLIGHT_UPLOADS = 6;
const NORMAL_UPLOADS = 8;

interface Latency {
  label: string;
  count: number;
  p50: number;
  p99: number;
  notes?: string;
}

function summary(label: string, samples: number[], notes?: string): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
  return { label, count: sorted.length, p50: at(50), p99: at(99), ...(notes ? { notes } : {}) };
}

async function graphql(url: string, token: string, query: string): Promise<{ status: number; code: string | null }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: response.status, code: body.errors?.[0]?.extensions?.code ?? null };
}

async function upload(url: string, token: string, bytes: Uint8Array, name: string): Promise<string | null> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: 'mutation($input: ConvertMelodyInput!) { convertMelody(input: $input) { userErrors { code } } }',
      variables: { input: { prompt: 'a song about the sea at night, slow and calm', genre: 'ballad', mood: 'calm', audio: null } },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.input.audio'] }));
  form.append('0', new Blob([bytes]), name);
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  const body = (await response.json()) as {
    data?: { convertMelody: { userErrors: { code: string }[] } };
    errors?: { extensions?: { code?: string } }[];
  };
  return body.errors?.[0]?.extensions?.code ?? body.data?.convertMelody.userErrors[0]?.code ?? null;
}

/** `victim()` one at a time for DURATION_MS (or `count` times) while `abuse()` keeps `inFlight` requests going. */
async function underLoad(
  victim: () => Promise<void>,
  abuse: (() => Promise<unknown>) | null,
  inFlight: number,
  count?: number,
): Promise<{ samples: number[]; abusive: number }> {
  let running = true;
  let abusive = 0;
  const loops = abuse
    ? Array.from({ length: inFlight }, async () => {
        while (running) {
          await abuse().catch(() => undefined);
          abusive += 1;
        }
      })
    : [];
  const samples: number[] = [];
  const end = performance.now() + DURATION_MS;
  while (count === undefined ? performance.now() < end : samples.length < count) {
    const started = performance.now();
    await victim();
    samples.push(performance.now() - started);
  }
  running = false;
  await Promise.all(loops);
  return { samples, abusive };
}

/** A FLAC of 300 s of 192 kHz stereo tone (refused after decoding: too long, too large decoded). */
async function hugeFlac(): Promise<Uint8Array> {
  const ffmpeg = spawn(
    ffmpegPath(),
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=192000:duration=300',
      '-ac',
      '2',
      '-c:a',
      'flac',
      '-f',
      'flac',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const chunks: Buffer[] = [];
  ffmpeg.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number | null>((resolve) => ffmpeg.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  return new Uint8Array(Buffer.concat(chunks));
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const resources = await createTestResources(cleanup, { storageLabel: 'mv-bench-abuse-' });
    const api = await startApiProcess(cleanup, {
      name: 'api',
      env: {
        ...resources.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '0',
        DAILY_QUOTA: '100000',
        MONTHLY_QUOTA: '1000000',
      },
    });
    const url = api.url!;
    const victim = mintToken(resources.jwtSecret, 'victim');
    const abuser = mintToken(resources.jwtSecret, 'abuser');
    const figures: Latency[] = [];

    // 1. Hole 5.
    const quota = async () => {
      const { status } = await graphql(url, victim, '{ quota { daily { used limit } } }');
      if (status !== 200) throw new Error(`quota answered ${status}`);
    };
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, index) => `a${index}: history(first: 0) { totalCount }`).join(' ')} }`;
    let largest = 1;
    while ((await graphql(url, abuser, aliases(largest + 1))).status === 200) largest += 1;
    await quota();
    figures.push(summary('quota, alone', (await underLoad(quota, null, 0)).samples));
    const refused = await underLoad(quota, () => graphql(url, abuser, aliases(330)), ABUSIVE_IN_FLIGHT_QUERIES);
    figures.push(
      summary(
        'quota, while 16 × 330 aliases of history(first: 0) { totalCount } (refused: QUERY_TOO_COMPLEX)',
        refused.samples,
        `${refused.abusive} abusive requests`,
      ),
    );
    const accepted = await underLoad(quota, () => graphql(url, abuser, aliases(largest)), ABUSIVE_IN_FLIGHT_QUERIES);
    figures.push(
      summary(
        `quota, while 16 × ${largest} aliases (the largest the cost limit accepts)`,
        accepted.samples,
        `${accepted.abusive} abusive requests`,
      ),
    );

    // 2. Hole 6.
    const normal = toneWav(4, 44_100, 0.3);
    const huge = await hugeFlac();
    const normalUpload = async () => {
      const code = await upload(url, victim, normal, 'melody.wav');
      if (code !== null) throw new Error(`normal upload answered ${code}`);
    };
    await normalUpload();
    figures.push(summary('normal upload (4 s WAV), alone', (await underLoad(normalUpload, null, 0, NORMAL_UPLOADS)).samples));
    let refusal: string | null = null;
    const abusive = await underLoad(
      normalUpload,
      async () => {
        refusal = await upload(url, abuser, huge, 'huge.flac');
      },
      ABUSIVE_IN_FLIGHT_UPLOADS,
      NORMAL_UPLOADS,
    );
    figures.push(
      summary(
        `normal upload, while 6 × a ${(huge.byteLength / 1e6).toFixed(1)} MB FLAC of 300 s 192 kHz stereo`,
        abusive.samples,
        `${abusive.abusive} abusive uploads, answered ${refusal}`,
      ),
    );

    if (process.argv.includes('--json')) console.log(JSON.stringify(figures, null, 2));
    for (const figure of figures)
      console.log(
        `${figure.label}: n=${figure.count}, p50 ${figure.p50} ms, p99 ${figure.p99} ms${figure.notes ? ` (${figure.notes})` : ''}`,
      );
  } finally {
    await cleanup.run();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
