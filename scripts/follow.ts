/**
 * `npm run follow -- CONVERSION_ID [--url ws://localhost:4000/graphql] [--token JWT]`: follows one
 * conversion over graphql-ws (the `conversionProgress` subscription of the example operations, typed by
 * `npm run codegen`) and prints one line per event until the final one, then the result links.
 *
 * The token comes from `--token` or the TOKEN variable (`npm run token -- USER_ID` prints one); the URL
 * from `--url` or GRAPHQL_WS_URL (default ws://localhost:4000/graphql).
 * Exit status: 0 when the conversion COMPLETED, 1 when it FAILED or was CANCELLED, 2 for usage,
 * connection or authorisation problems (a refused token closes the socket with 4403).
 */
import { parseArgs } from 'node:util';
import { print } from 'graphql';
import { createClient, type CloseCode } from 'graphql-ws';
import WebSocket from 'ws';
import { ConversionProgressDocument, type ConversionProgressSubscription } from '../src/generated/graphql.js';

const USAGE = 'Usage: npm run follow -- CONVERSION_ID [--url ws://localhost:4000/graphql] [--token JWT]';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) fail(USAGE);
const [conversionId] = positionals;
if (!conversionId || positionals.length > 1) fail(USAGE);
const url = values.url ?? process.env.GRAPHQL_WS_URL ?? 'ws://localhost:4000/graphql';
const token = values.token ?? process.env.TOKEN;
if (!token) fail(`No token: pass --token or set TOKEN (npm run token -- USER_ID prints one).\n${USAGE}`);

let closeReason: string | null = null;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  // One attempt: a script that follows one conversion should say what went wrong, not retry forever.
  retryAttempts: 0,
  on: {
    closed: (event) => {
      const { code, reason } = event as { code: number | CloseCode; reason: string };
      if (code === 4403) closeReason = 'the server refused the token (4403 Forbidden)';
      else if (code !== 1000) closeReason = `the socket closed with ${code}${reason ? ` ${reason}` : ''}`;
    },
  },
});

type ProgressEvent = ConversionProgressSubscription['conversionProgress'];

function line(event: ProgressEvent): string {
  const percent = `${String(event.progress).padStart(3)}%`;
  return [event.at, event.status.padEnd(10), (event.stage ?? '-').padEnd(16), percent, event.message].join('  ');
}

let last: ProgressEvent | null = null;
try {
  const events = client.iterate<ConversionProgressSubscription>({
    query: print(ConversionProgressDocument),
    variables: { id: conversionId },
  });
  for await (const result of events) {
    if (result.errors?.length) fail(`Subscription error: ${result.errors.map((error) => error.message).join('; ')}`);
    if (!result.data) continue;
    last = result.data.conversionProgress;
    console.log(line(last));
    if (last.final) break;
  }
} catch (error) {
  const detail =
    closeReason ??
    (Array.isArray(error) ? error.map((e: { message?: string }) => e.message).join('; ') : ((error as Error).message ?? String(error)));
  fail(`Could not follow ${conversionId} at ${url}: ${detail}`);
} finally {
  await client.dispose();
}

if (!last) fail(`The subscription ended without an event${closeReason ? `: ${closeReason}` : ''}.`);
if (last.error) console.log(`error ${last.error.code}: ${last.error.message}${last.error.retryable ? ' (retryable)' : ''}`);
const result = last.conversion?.result;
if (result) {
  console.log(`vocals     ${result.vocalsUrl}`);
  console.log(`compressed ${result.compressedAudioUrl}`);
  console.log(`midi       ${result.midiUrl}`);
  console.log(`musicxml   ${result.musicXmlUrl}`);
  console.log(`report     ${result.reportUrl}`);
  console.log(`links expire at ${result.urlsExpireAt}`);
}
process.exit(last.status === 'COMPLETED' ? 0 : 1);
