/**
 * The API process's HTTP server: one port and one path (`/graphql`) for queries and mutations
 * (Apollo Server 5 on Express 5, GraphQL multipart uploads through multipart-upload.ts on busboy) and for
 * subscriptions (graphql-ws on the same HTTP server); plus `GET /files/*` (signed links) and
 * `GET /health/live`, `/health/ready`, `/health` and `/metrics` (see observability.ts), and the web app
 * at `/` (web-app.ts).
 *
 * - CSRF prevention is on: a multipart upload must carry `Apollo-Require-Preflight` (or
 *   `X-Apollo-Operation-Name`). Uploads without it are refused with 400 *before* the body is parsed.
 * - Landing page: Apollo Sandbox in development, none otherwise.
 * - Errors: answered in one place (client-errors.ts): domain and API errors keep their stable code;
 *   anything unexpected is logged with the request id and, in production, answered as a bare
 *   `INTERNAL_SERVER_ERROR` with no message details, stack or path.
 * - Request bodies (JSON) and WebSocket messages are at most {@link MAX_MESSAGE_BYTES}.
 * - graphql-ws: `connectionParams.authorization` (or `Authorization`) must hold a valid token
 *   (`Bearer <jwt>` or the bare JWT); otherwise the socket is closed with 4403 Forbidden. It is checked
 *   again on every `subscribe`: a revoked key or an expired JWT closes the socket with 4403 then.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { GraphQLError, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { Upload } from 'graphql-upload-minimal';
import type { AuthUser } from '../platform/auth.js';
import type { Services } from '../platform/services.js';
import { authenticate, createContext, requestIdFrom, type GraphQLContext } from '../modules/graphql-context.js';
import { buildAppSchema } from './schema.js';
import { errorLoggingPlugin, formatClientError, withoutHttp } from './client-errors.js';
import { filesRoute } from './files-route.js';
import { KNOWN_OPERATIONS, graphqlSpan, httpMetrics, observabilityPlugin } from './observability.js';
import { observabilityRoutes } from '../platform/observability-routes.js';
import { metricOperationLabel } from '../platform/metrics.js';
import { multipartUploads } from './multipart-upload.js';
import { WsConnections } from './ws-connections.js';
import { RateLimiter } from '../platform/rate-limiter.js';
import { abuseLimitsPlugin } from './abuse-limits/apollo-plugin.js';
import { enforceRateLimit } from './abuse-limits/rate-limit.js';
import { requestShapeGuard } from './abuse-limits/request-shape.js';
import { WsLimits } from './abuse-limits/ws-limits.js';
import { webAppRoutes } from './web-app.js';
import { SharedSubscriptionResults, type SharedResultsStats } from './shared-subscription-results.js';
import { batchWrites } from './ws-write-batching.js';

export const GRAPHQL_PATH = '/graphql';
/** Largest JSON request body and largest WebSocket message, bytes (1 MiB; uploads have MAX_UPLOAD_BYTES). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface ApiServer {
  httpServer: Server;
  /** `http://<host>:<port>` once started (127.0.0.1 when listening on all interfaces). */
  readonly url: string;
  /** Listens on `port` (default `config.port`; 0 picks a free one). @returns the URL. */
  start(port?: number, host?: string): Promise<string>;
  /** Stops accepting, closes WebSockets, drains in-flight requests and closes the HTTP server. */
  stop(): Promise<void>;
  /** Shared executions and serialisations of subscription events so far (shared-subscription-results.ts). */
  readonly subscriptionResults: Readonly<SharedResultsStats>;
}

const CSRF_MESSAGE =
  "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Multipart uploads must carry a non-empty 'Apollo-Require-Preflight' (or 'X-Apollo-Operation-Name') header.";

/**
 * Apollo's CSRF prevention runs after the body is parsed; for multipart requests that would mean
 * receiving the whole upload first. This refuses them up front, with Apollo's rule: a
 * `multipart/form-data` POST is allowed only with one of the preflight headers.
 */
function multipartCsrfGuard(req: Request, res: Response, next: NextFunction): void {
  if (req.is('multipart/form-data') && !req.get('apollo-require-preflight') && !req.get('x-apollo-operation-name')) {
    res.status(400).json({ errors: [{ message: CSRF_MESSAGE, extensions: { code: 'BAD_REQUEST' } }] });
    return;
  }
  next();
}

/**
 * After the response, drains every upload of a multipart request that no resolver consumed (an
 * operation that failed validation, a resolver that returned early): an unread file stream would
 * hold the multipart parser, and with it the connection, forever.
 */
function releaseUnreadUploads(req: Request, res: Response, next: NextFunction): void {
  if (!req.is('multipart/form-data')) {
    next();
    return;
  }
  res.once('close', () => {
    const seen = new Set<unknown>();
    const visit = (value: unknown, depth: number): void => {
      if (depth > 8 || value === null || typeof value !== 'object' || seen.has(value)) return;
      seen.add(value);
      if (value instanceof Upload) {
        value.promise.then(
          (file) => {
            try {
              file.createReadStream().resume();
            } catch {
              // Already consumed by a resolver, or failed: nothing left to drain.
            }
          },
          () => undefined,
        );
        return;
      }
      for (const child of Object.values(value as Record<string, unknown>)) visit(child, depth + 1);
    };
    visit(req.body, 0);
  });
  next();
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `express.json` verifier: a JSON body must be UTF-8 (RFC 8259 §8.1). Lenient decoding would turn
 * the bad bytes into U+FFFD and pass them on as if the client had meant them.
 */
function requireUtf8(_req: Request, _res: Response, body: Buffer): void {
  try {
    strictUtf8.decode(body);
  } catch {
    // body-parser wraps verifier errors as 403; `httpStatus` says what we answer instead.
    throw Object.assign(new Error('The request body is not valid UTF-8.'), { httpStatus: 400, graphqlCode: 'INVALID_TEXT_ENCODING' });
  }
}

/**
 * Answers errors of the body parsers (malformed multipart: 400, too many files: 413, a JSON body that
 * is not UTF-8: 400 INVALID_TEXT_ENCODING).
 */
function uploadErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
  const status = (error as { httpStatus?: unknown }).httpStatus ?? (error as { status?: unknown }).status;
  if (res.headersSent) {
    next(error);
    return;
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (error as { graphqlCode?: unknown }).graphqlCode;
    res
      .status(status)
      .json({ errors: [{ message: (error as Error).message, extensions: { code: typeof code === 'string' ? code : 'BAD_REQUEST' } }] });
    return;
  }
  if ((error as { type?: string }).type === 'entity.parse.failed' || (error as { type?: string }).type === 'entity.too.large') {
    res
      .status((error as { status?: number }).status ?? 400)
      .json({ errors: [{ message: 'The request body is not valid JSON or is too large.', extensions: { code: 'BAD_REQUEST' } }] });
    return;
  }
  next(error);
}

/** Message types only a graphql-ws *server* sends. */
const SERVER_MESSAGE_TYPES = new Set(['connection_ack', 'next', 'error']);
/** Longest operation id, characters (graphql-ws puts the id in close reasons, which WebSocket caps at 123 bytes). */
const MAX_OPERATION_ID_LENGTH = 64;

/**
 * Runs before graphql-ws's own message listener and closes the socket with 4400 Bad Request for
 * client messages graphql-ws would answer with 4500 Internal Server Error (blaming the server): a
 * type only servers send (`connection_ack`, `next`, `error`: graphql-ws throws), and an operation id
 * over {@link MAX_OPERATION_ID_LENGTH} characters (its 4409 "Subscriber for <id> already exists" close
 * reason overflows the 123-byte limit and throws).
 */
function refuseBadClientMessages(socket: WebSocket, data: Buffer, isBinary: boolean): void {
  if (isBinary) return;
  let message: unknown;
  try {
    message = JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    return; // graphql-ws answers unparsable messages itself (4400).
  }
  const { type, id } = (message ?? {}) as { type?: unknown; id?: unknown };
  if (typeof type === 'string' && SERVER_MESSAGE_TYPES.has(type)) socket.close(4400, `A client may not send ${type}.`);
  else if (typeof id === 'string' && id.length > MAX_OPERATION_ID_LENGTH)
    socket.close(4400, `Operation ids are at most ${MAX_OPERATION_ID_LENGTH} characters.`);
}

/**
 * Headers on every answer: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 * `Referrer-Policy: no-referrer`, a Content-Security-Policy that allows nothing (the API serves JSON
 * and files, never pages; not in development, where Apollo Sandbox is the landing page), and HSTS
 * when the public URL is https (behind TLS).
 */
function securityHeaders(options: { hsts: boolean; csp: boolean }) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('X-Frame-Options', 'DENY');
    res.set('Referrer-Policy', 'no-referrer');
    if (options.csp) res.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    if (options.hsts) res.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}

/** Creates (but does not start) the API server. Builds the schema unless one is given. */
export async function createApiServer(services: Services, options: { schema?: GraphQLSchema } = {}): Promise<ApiServer> {
  const { config, logger } = services;
  const production = config.env === 'production';
  const schema = options.schema ?? (await buildAppSchema());
  const app = express();
  app.disable('x-powered-by');
  // No ETag on res.send/res.json answers (GraphQL POSTs, JSON errors, probes): nothing revalidates
  // them, and hashing every body cost a share of a GraphQL request's CPU (issue 16). Static files and
  // /files keep their own validators.
  app.set('etag', false);
  // A request (upload included) must arrive whole within REQUEST_TIMEOUT_SECONDS: a slower one is
  // answered 408 and closed (Node checks every connectionsCheckingInterval, 30 s by default).
  const requestTimeoutMs = config.requestTimeoutSeconds * 1000;
  const httpServer = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, requestTimeoutMs / 4),
    },
    app,
  );
  // Abuse limits (abuse-limits/, one file each): rate, depth, complexity, document size, open subscriptions.
  const rateLimiter = new RateLimiter(services.redis, config.redisPrefix, config.rateLimitPerMinute);
  // Callers without a credential, counted per client IP (the direct peer: no proxy header is trusted).
  const anonymousLimiter = new RateLimiter(services.redis, config.redisPrefix, config.anonymousRateLimitPerMinute);
  const wsLimits = new WsLimits(schema, config, services.redis, rateLimiter, logger);

  // graphql-ws on the same server and path.
  // A message over MAX_MESSAGE_BYTES closes the socket with 1009 before it is buffered whole (the
  // ws default is 100 MiB: three unauthenticated 99 MiB connection_init messages took 730 MB).
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: MAX_MESSAGE_BYTES });
  const { metrics } = services;
  const wsConnections = new WsConnections(config.wsMaxConnectionsPerUser, config.wsIdleTimeoutSeconds * 1000);
  const authenticateSocket = (params: Record<string, unknown> | undefined) => {
    const values = params ?? {};
    return authenticate(services, values.authorization ?? values.Authorization, values['x-api-key'] ?? values.apiKey);
  };
  // Subscription ids (per socket context) counted in the active-subscriptions gauge.
  const openSubscriptions = new WeakMap<object, Set<string>>();
  // An event is executed once per (document, variables, user) and serialised once, whatever the
  // number of subscribers it reaches.
  const sharedResults = new SharedSubscriptionResults({
    enabled: config.subscriptionSharedResults,
    viewerKey: (context) => {
      const user = (context as GraphQLContext).user;
      return user ? `${user.role}:${user.id}` : '';
    },
    onExecution: () => metrics?.subscriptionExecutions.inc(),
    onSerialisation: () => metrics?.subscriptionSerialisations.inc(),
  });
  const wsCleanup = useServer<Record<string, unknown>, { user: AuthUser; requestId: string }>(
    {
      schema,
      isProd: production,
      subscribe: sharedResults.subscribe,
      jsonMessageReplacer: sharedResults.replacer,
      onConnect: async (ctx) => {
        const user = await authenticateSocket(ctx.connectionParams);
        // Returning false makes graphql-ws close the socket with 4403 Forbidden.
        if (!user) return false;
        // Over the per-user cap the socket is already closing with 4429.
        if (!wsConnections.admit(ctx.extra.socket, user.id)) return false;
        ctx.extra.user = user;
        ctx.extra.requestId = requestIdFrom(ctx.extra.request.headers['x-request-id']);
        return true;
      },
      // The credential is checked again for every operation: a revoked API key or an expired JWT
      // stops working on a socket that is already open (closed with 4403, as at connection_init),
      // and a changed role applies from the next operation.
      onSubscribe: async (ctx, id, payload) => {
        const user = await authenticateSocket(ctx.connectionParams);
        if (!user) {
          ctx.extra.socket.close(4403, 'Forbidden');
          return [new GraphQLError('The credential of this connection is no longer valid.', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        ctx.extra.user = user;
        return wsLimits.onSubscribe(ctx, id, payload, user);
      },
      // Errors before execution (limits, parse, validation) without the internal `extensions.http`.
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => withoutHttp(error.toJSON())),
      context: (ctx) =>
        createContext(services, { requestId: ctx.extra.requestId ?? requestIdFrom(undefined), user: ctx.extra.user ?? null }),
      onOperation: (ctx, id, _payload, args, result) => {
        wsConnections.operationStarted(ctx.extra.socket);
        const operation = metricOperationLabel(args.operationName, KNOWN_OPERATIONS);
        const isStream = typeof (result as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
        metrics?.graphqlOperations.inc({
          operation,
          type: isStream ? 'subscription' : 'ws',
          outcome: !isStream && (result as { errors?: unknown[] }).errors?.length ? 'error' : 'ok',
        });
        if (isStream && metrics) {
          const ids = openSubscriptions.get(ctx) ?? new Set<string>();
          openSubscriptions.set(ctx, ids);
          ids.add(id);
          metrics.activeSubscriptions.inc();
        }
        return undefined;
      },
      onComplete: async (ctx, id) => {
        wsConnections.operationEnded(ctx.extra.socket);
        if (openSubscriptions.get(ctx)?.delete(id)) metrics?.activeSubscriptions.dec();
        await wsLimits.onComplete(ctx, id);
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        // A stand-in for the result's JSON, made once for all its subscribers (spliced in by the socket's send below).
        if (!result.errors?.length) return sharedResults.payloadFor(result) as unknown as FormattedExecutionResult | undefined;
        return { ...result, errors: result.errors.map((error) => withoutHttp(formatClientError(error.toJSON(), error, production))) };
      },
    },
    wsServer,
  );
  wsServer.on('connection', (socket) => {
    wsConnections.opened(socket);
    // graphql-ws sends through `socket.send` (graphql-ws/use/ws); a `next` message carrying a shared
    // result's token gets that result's JSON here, so each socket's message differs only in its id,
    // and the messages of one fan-out leave the socket in one write.
    if (config.subscriptionSharedResults) batchWrites(socket, (data) => sharedResults.expand(data));
    socket.prependListener('message', (data: Buffer, isBinary: boolean) => {
      wsConnections.touch(socket);
      refuseBadClientMessages(socket, data, isBinary);
    });
  });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT (it also stops the worker and closes the services, in order).
    stopOnTerminationSignals: false,
    introspection: config.introspection,
    // Without introspection, no "Did you mean …?" field suggestions either: they leak the schema.
    hideSchemaDetailsFromClientErrors: !config.introspection,
    includeStacktraceInErrorResponses: !production,
    formatError: (formatted, error) => formatClientError(formatted, error, production),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
              await wsLimits.close();
            },
          };
        },
      },
      config.env === 'development'
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageDisabled(),
      // No field carries a cache hint, so Apollo's cache-control plugin only ever answered
      // `Cache-Control: no-store`, at the price of a hook around every field it resolved; the /graphql
      // route below sets that header itself.
      ApolloServerPluginCacheControlDisabled(),
      errorLoggingPlugin(),
      observabilityPlugin(metrics),
      // The rate limit is applied in the context function instead (below), before the document is parsed.
      abuseLimitsPlugin<GraphQLContext>(schema, config, null),
    ],
  });
  await apollo.start();

  app.use(securityHeaders({ hsts: config.publicUrl.startsWith('https://'), csp: config.env !== 'development' }));
  app.use(httpMetrics(metrics));
  // /graphql first: it takes nearly every request, and the other routes' paths never overlap it.
  app.use(
    GRAPHQL_PATH,
    (req, res, next) => {
      const requestId = requestIdFrom(req.headers['x-request-id']);
      res.locals.requestId = requestId;
      res.set('X-Request-Id', requestId);
      res.set('Cache-Control', 'no-store');
      next();
    },
    graphqlSpan,
    multipartCsrfGuard,
    releaseUnreadUploads,
    multipartUploads({ maxFileSize: config.maxUploadBytes, maxFiles: 2 }),
    express.json({ limit: MAX_MESSAGE_BYTES, verify: requireUtf8 }),
    requestShapeGuard(config),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const context = createContext(services, {
          requestId: res.locals.requestId as string,
          user: await authenticate(services, req.headers.authorization, req.headers['x-api-key']),
          clientIp: req.socket.remoteAddress ?? null,
        });
        // Before parsing, validating and costing: a flood of large documents is refused for the price
        // of one Redis call each (a RATE_LIMITED GraphQLError here is answered with its 429 as is).
        await enforceRateLimit(rateLimiter, context.user, context.logger, { limiter: anonymousLimiter, clientIp: context.clientIp });
        return context;
      },
    }),
  );
  app.get('/health/live', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.use(observabilityRoutes(services));
  app.use('/files', filesRoute(services));
  // The web app (dist/web) at `/` and its client-side routes; the Sandbox stays at /graphql.
  app.use(webAppRoutes(undefined, services.config.oidc));
  // No framework HTML pages: an unknown path is a JSON 404 like every other answer.
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] });
  });
  app.use(uploadErrorHandler);
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error('Unhandled HTTP error', { error: (error as Error)?.message, stack: (error as Error)?.stack });
    if (!res.headersSent)
      res.status(500).json({ errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });

  let url = '';
  let stopped: Promise<void> | null = null;
  return {
    httpServer,
    subscriptionResults: sharedResults.stats,
    get url() {
      return url;
    },
    async start(port = config.port, host = config.host) {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const address = httpServer.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
      logger.info('API listening', { url: `${url}${GRAPHQL_PATH}` });
      return url;
    },
    stop() {
      stopped ??= (async () => {
        // Apollo's drain plugin closes the HTTP server (idle sockets at once, busy ones after their
        // response) and the ws plugin above closes every WebSocket with 1001.
        await apollo.stop();
        if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      })();
      return stopped;
    },
  };
}
