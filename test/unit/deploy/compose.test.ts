/**
 * docker-compose.yml, checked without Docker (no engine runs here): the services' environment holds
 * only variables the service reads, the monitoring profile adds Prometheus and Grafana with the files
 * under deploy/ they mount, the s3 profile adds MinIO, and the worker serves /metrics on the port the
 * compose Prometheus scrapes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = process.cwd();
const AWS_SDK_VARIABLES = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

interface ComposeService {
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

function configVariables(): Set<string> {
  const source = readFileSync(join(ROOT, 'src', 'platform', 'config.ts'), 'utf8');
  return new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)|env, '([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1] ?? match[2]));
}

describe('docker-compose.yml', () => {
  it('gives the API and the worker only variables that src/platform/config.ts (or the AWS SDK) reads', () => {
    const variables = configVariables();
    const unknown = ['api', 'worker'].flatMap((name) =>
      Object.keys(compose.services[name].environment ?? {}).filter(
        (variable) => !variables.has(variable) && !AWS_SDK_VARIABLES.has(variable),
      ),
    );
    expect(unknown).toEqual([]);
  });

  it('adds Prometheus and Grafana with --profile monitoring, MinIO with --profile s3, and mounts files that exist', () => {
    const inProfile = (profile: string) =>
      Object.entries(compose.services)
        .filter(([, service]) => service.profiles?.includes(profile))
        .map(([name]) => name);
    expect(inProfile('monitoring')).toEqual(['prometheus', 'grafana']);
    expect(inProfile('s3')).toEqual(['minio', 'minio-bucket']);
    for (const name of ['prometheus', 'grafana'])
      for (const volume of compose.services[name].volumes ?? [])
        if (volume.startsWith('./')) expect([volume, existsSync(join(ROOT, volume.split(':')[0]))]).toEqual([volume, true]);
  });

  it('has the worker serve /metrics on the port the compose Prometheus scrapes', () => {
    const scrape = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { port: number }[]; static_configs?: { targets: string[] }[] }[];
    };
    const workerJob = scrape.scrape_configs.find((job) => job.job_name === 'melody-worker')!;
    expect(String(workerJob.dns_sd_configs![0].port)).toBe(compose.services.worker.environment!.METRICS_PORT);
    const apiJob = scrape.scrape_configs.find((job) => job.job_name === 'melody-api')!;
    expect(apiJob.static_configs![0].targets).toEqual([`api:${compose.services.api.environment!.PORT}`]);
  });
});
