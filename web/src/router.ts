/**
 * A small History-API router: the app has five routes, so a routing library would cost more bundle
 * than it saves. `navigate` pushes a path; `useRoute` re-renders on pushes and back/forward.
 */
import { useEffect, useState } from 'react';

export type Route =
  | { name: 'create' }
  | { name: 'conversion'; id: string }
  | { name: 'history' }
  | { name: 'admin' }
  | { name: 'sign-in-callback' }
  | { name: 'not-found' };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { name: 'create' };
  if (pathname === '/history') return { name: 'history' };
  if (pathname === '/admin') return { name: 'admin' };
  if (pathname === '/auth/callback') return { name: 'sign-in-callback' };
  const match = /^\/conversions\/([^/]+)$/.exec(pathname);
  if (match) return { name: 'conversion', id: decodeURIComponent(match[1]) };
  return { name: 'not-found' };
}

const EVENT = 'app:navigate';

export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new Event(EVENT));
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return parseRoute(path);
}

export const conversionPath = (id: string) => `/conversions/${encodeURIComponent(id)}`;
