/** The shell: sign-in (a token or API key), the header with navigation and the quota, the pages. */
import { lazy, Suspense, useMemo, useState, type FormEvent } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { createAppClient } from './apollo';
import { claimsOf, storeCredential, storedCredential } from './auth';
import { Link, PageHeading } from './components/common';
import { QuotaLeft } from './components/quota';
import { CreatePage } from './pages/create-page';
import { ConversionPage } from './pages/conversion-page';
import { HistoryPage } from './pages/history-page';
import { useRoute } from './router';

/** The operations dashboard and its chart library, loaded only when an admin opens it. */
const AdminPage = lazy(() => import('./pages/admin-page'));

export function App() {
  const [credential, setCredential] = useState(storedCredential);
  const app = useMemo(() => (credential ? createAppClient(credential) : null), [credential]);
  const signOut = () => {
    app?.dispose();
    storeCredential(null);
    setCredential(null);
  };
  if (!app || !credential)
    return (
      <SignIn
        onSignIn={(value) => {
          storeCredential(value);
          setCredential(value);
        }}
      />
    );
  const claims = claimsOf(credential);
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
