/**
 * The shell: sign-in (through the deployment's OpenID Connect issuer, or a pasted token or API key
 * where there is none), the header with navigation and the quota, the pages.
 */
import { lazy, Suspense, useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { createAppClient } from './apollo';
import { claimsOf, isExpired, storeCredential, storedCredential } from './auth';
import { loadAppConfig, type AppConfig, type OidcSettings } from './app-config';
import { Link, PageHeading } from './components/common';
import { QuotaLeft } from './components/quota';
import { CreatePage } from './pages/create-page';
import { ConversionPage } from './pages/conversion-page';
import { HistoryPage } from './pages/history-page';
import { navigate, useRoute } from './router';

/** The operations dashboard and its chart library, loaded only when an admin opens it. */
const AdminPage = lazy(() => import('./pages/admin-page'));

/** A stored credential that has not expired (an expired access token means signing in again). */
function initialCredential(): string | null {
  const stored = storedCredential();
  if (stored && isExpired(stored)) {
    storeCredential(null);
    return null;
  }
  return stored;
}

export function App() {
  const [credential, setCredential] = useState(initialCredential);
  const [config, setConfig] = useState<AppConfig | null>(null);
  const route = useRoute();
  useEffect(() => {
    void loadAppConfig().then(setConfig);
  }, []);
  const app = useMemo(() => (credential ? createAppClient(credential) : null), [credential]);
  const signIn = (value: string) => {
    storeCredential(value);
    setCredential(value);
  };
  const signOut = () => {
    app?.dispose();
    storeCredential(null);
    setCredential(null);
  };
  if (route.name === 'sign-in-callback') {
    if (!config)
      return (
        <main aria-busy="true">
          <p>Signing in…</p>
        </main>
      );
    return <SignInCallback settings={config.oidc} onSignIn={signIn} />;
  }
  if (!app || !credential) {
    if (!config)
      return (
        <main aria-busy="true">
          <p>Loading…</p>
        </main>
      );
    return config.oidc ? <SignInWithIssuer settings={config.oidc} /> : <SignIn onSignIn={signIn} />;
  }
  const claims = claimsOf(credential, config?.oidc?.roleClaim);
  const who = claims.sub ?? 'API key';
  return (
    <ApolloProvider client={app.client}>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header>
        <nav aria-label="Main">
          <Link href="/" className="brand">
            melody-vocals
          </Link>
          <Link href="/">Create</Link>
          <Link href="/history">History</Link>
          {claims.role === 'ADMIN' && <Link href="/admin">Operations</Link>}
        </nav>
        <QuotaLeft />
        <p className="who">
          Signed in as <strong>{who}</strong>{' '}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </p>
      </header>
      <div id="content">
        <Page />
      </div>
    </ApolloProvider>
  );
}

function Page() {
  const route = useRoute();
  switch (route.name) {
    case 'create':
      return <CreatePage />;
    case 'conversion':
      return <ConversionPage key={route.id} id={route.id} />;
    case 'history':
      return <HistoryPage />;
    case 'admin':
      return (
        <Suspense
          fallback={
            <main aria-busy="true">
              <p>Loading the dashboard…</p>
            </main>
          }
        >
          <AdminPage />
        </Suspense>
      );
    default:
      return (
        <main>
          <PageHeading>Page not found</PageHeading>
          <p>
            <Link href="/">Go to the start</Link>
          </p>
        </main>
      );
  }
}

/** Sign-in through the issuer: one button; the issuer's own page asks for the account. */
function SignInWithIssuer({ settings }: { settings: OidcSettings }) {
  const [error, setError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  async function go() {
    setLeaving(true);
    setError(null);
    try {
      const { startSignIn } = await import('./oidc');
      await startSignIn(settings, location.pathname + location.search);
    } catch (e) {
      setLeaving(false);
      setError(`The sign-in service could not be reached: ${(e as Error).message}`);
    }
  }
  return (
    <main className="sign-in">
      <PageHeading>Sign in to melody-vocals</PageHeading>
      <p>You sign in with your account at {new URL(settings.issuer).host}; you come back here afterwards.</p>
      <button type="button" className="primary" onClick={() => void go()} disabled={leaving}>
        {leaving ? 'Opening the sign-in page…' : 'Sign in'}
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

/** The code can be traded only once: every render of the callback page shares the one attempt. */
let completing: Promise<{ accessToken: string; returnTo: string }> | null = null;
const completeOnce = (settings: OidcSettings) => (completing ??= import('./oidc').then(({ completeSignIn }) => completeSignIn(settings)));

/** `/auth/callback`: the issuer sent the user back with a code; trade it for the access token. */
function SignInCallback({ settings, onSignIn }: { settings: OidcSettings | null; onSignIn: (credential: string) => void }) {
  const [error, setError] = useState<string | null>(settings ? null : 'No sign-in service is configured here.');
  useEffect(() => {
    if (!settings) return;
    let stale = false;
    completeOnce(settings).then(
      ({ accessToken, returnTo }) => {
        completing = null;
        if (stale) return;
        onSignIn(accessToken);
        history.replaceState(null, '', '/');
        navigate(returnTo);
      },
      (e: Error) => {
        completing = null;
        if (!stale) setError(e.message);
      },
    );
    return () => {
      stale = true;
    };
  }, [settings]); // once per visit: onSignIn changes every render, the code can be traded once
  return (
    <main className="sign-in" aria-busy={error ? undefined : 'true'}>
      <PageHeading>Signing in</PageHeading>
      {error ? (
        <>
          <p className="field-error" role="alert">
            Sign-in did not complete: {error}
          </p>
          <p>
            <a href="/">Back to the start</a>
          </p>
        </>
      ) : (
        <p>Finishing sign-in…</p>
      )}
    </main>
  );
}

function SignIn({ onSignIn }: { onSignIn: (credential: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const credential = value.trim();
    if (!credential) {
      setError('Paste a token or an API key.');
      return;
    }
    setChecking(true);
    setError(null);
    try {
      // One cheap query says whether the API accepts it.
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credential.replace(/^bearer\s+/i, '')}` },
        body: JSON.stringify({ query: '{ quota { daily { remaining } } }' }),
      });
      const body = (await response.json()) as { errors?: { message: string }[] };
      if (body.errors?.length) setError(`The API did not accept it: ${body.errors[0].message}`);
      else onSignIn(credential);
    } catch (e) {
      setError(`The API could not be reached: ${(e as Error).message}`);
    } finally {
      setChecking(false);
    }
  }
  return (
    <main className="sign-in">
      <PageHeading>Sign in to melody-vocals</PageHeading>
      <p>
        No sign-in service is configured here, so paste a token (<code>npm run token -- YOUR_NAME</code>) or an API key.
      </p>
      <form onSubmit={submit} noValidate>
        <label htmlFor="credential">Token or API key</label>
        <textarea
          id="credential"
          rows={4}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={error ? 'credential-error' : undefined}
          aria-invalid={error ? true : undefined}
        />
        {error && (
          <p id="credential-error" className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
