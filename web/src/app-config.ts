/** What the app reads of its deployment (`/app-config.json`, served by the API). */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  scope: string;
  audience: string;
  roleClaim: string;
}

export interface AppConfig {
  oidc: OidcSettings | null;
}

/** The deployment's settings; no issuer when they cannot be read (the paste form still works). */
export async function loadAppConfig(): Promise<AppConfig> {
  try {
    const response = await fetch('/app-config.json', { headers: { accept: 'application/json' } });
    if (!response.ok) return { oidc: null };
    return (await response.json()) as AppConfig;
  } catch {
    return { oidc: null };
  }
}
