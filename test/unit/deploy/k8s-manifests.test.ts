/**
 * The Kubernetes manifests (deploy/k8s), checked offline: each overlay builds with kustomize
 * (`kubectl kustomize`), every object it yields validates against its schema (Kubernetes, KEDA and
 * Prometheus Operator schemas from the kubernetes-models packages), and the objects agree with each
 * other and with the service: selectors match pod labels, probes and Services point at ports the
 * containers open, every environment variable is one the service reads, Secrets are only referenced,
 * and KEDA watches the Bee-Queue lists the workers take jobs from.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { QUEUE_NAMES } from '../../../src/worker/conversion-queues.js';
import { describeWithProgram } from '../../support/required-tool.js';

const ROOT = process.cwd();
const OVERLAYS = ['dev', 'production'] as const;

/** Variables the AWS SDK's default credential chain reads (the s3 storage backend uses it); not config.ts's. */
const AWS_SDK_VARIABLES = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
]);
/** Settings whose values are secrets: they may only come from a Secret. */
const SECRET_SETTING = /SECRET|TOKEN|PASSWORD|_KEY$|^DATABASE_URL$|^REDIS_URL$/;

/** An object as kustomize prints it; `spec` is read field by field below (each kind differs), hence loosely typed. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  data?: Record<string, string>;
}
interface Container {
  name: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}

/** The environment variable names src/platform/config.ts reads (`env.NAME` and `integer(env, 'NAME', …)` alike). */
function configVariables(): Set<string> {
  const source = readFileSync(join(ROOT, 'src', 'platform', 'config.ts'), 'utf8');
  const names = new Set<string>();
  for (const match of source.matchAll(/env\.([A-Z][A-Z0-9_]+)|env, '([A-Z][A-Z0-9_]+)'/g)) names.add(match[1] ?? match[2]);
  return names;
}

function build(overlay: string): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', join(ROOT, 'deploy', 'k8s', 'overlays', overlay)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJSON() as K8sObject);
}

/** The model class (with its compiled schema) of an object's apiVersion and kind. */
async function modelOf(object: K8sObject): Promise<{ new (data: unknown): { validate(): void } }> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const module =
    group === 'keda.sh'
      ? `@kubernetes-models/keda/${object.apiVersion}/${object.kind}`
      : group === 'monitoring.coreos.com'
        ? `@kubernetes-models/prometheus-operator/${object.apiVersion}/${object.kind}`
        : group === ''
          ? `kubernetes-models/${version}/${object.kind}`
          : `kubernetes-models/${group}/${version}/${object.kind}`;
  const exports = (await import(module)) as Record<string, { new (data: unknown): { validate(): void } }>;
  return exports[object.kind];
}

const podTemplate = (object: K8sObject) => object.spec?.template ?? object.spec?.jobTemplate?.spec?.template;
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);
const isService = (object: K8sObject) => podTemplate(object)?.metadata?.labels?.['app.kubernetes.io/name'] === 'melody-vocals';

describeWithProgram(
  'kubectl',
  'the Kubernetes manifests',
  () => {
    const variables = configVariables();

    describe.each(OVERLAYS)('the %s overlay', (overlay) => {
      let objects: K8sObject[];
      beforeAll(() => {
        objects = build(overlay);
      });
      const ofKind = (kind: string) => objects.filter((object) => object.kind === kind);
      const named = (kind: string, name: string) => {
        const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
        if (!found) throw new Error(`${overlay}: no ${kind} ${name}`);
        return found;
      };
      const workloads = () => objects.filter((object) => podTemplate(object));
      const serviceContainers = () =>
        workloads()
          .filter(isService)
          .flatMap((object) => (podTemplate(object).spec.containers as Container[]).map((container) => ({ object, container })));

      it('builds with kustomize into the objects the issue lists', () => {
        const kinds = new Set(objects.map((object) => object.kind));
        for (const kind of ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ScaledObject', 'Job', 'Ingress', 'ConfigMap'])
          expect([kind, kinds.has(kind)]).toEqual([kind, true]);
        for (const kind of ['NetworkPolicy', 'ServiceMonitor', 'PrometheusRule', 'Service'])
          expect([kind, kinds.has(kind)]).toEqual([kind, true]);
        expect(objects.every((object) => object.metadata.namespace === (overlay === 'dev' ? 'melody-dev' : 'melody'))).toBe(true);
      });

      it('has every object valid against its Kubernetes, KEDA or Prometheus Operator schema', async () => {
        const problems: string[] = [];
        for (const object of objects) {
          try {
            const Model = await modelOf(object);
            new Model(object).validate();
          } catch (error) {
            problems.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
          }
        }
        expect(problems).toEqual([]);
      });

      it('has selectors that match the labels of the pods, Services and Deployments they mean', () => {
        const problems: string[] = [];
        for (const object of workloads()) {
          const selector = object.spec.selector?.matchLabels;
          if (selector && !matches(selector, podTemplate(object).metadata.labels))
            problems.push(`${object.kind}/${object.metadata.name} selector`);
        }
        const podLabels = workloads().map((object) => podTemplate(object).metadata.labels as Record<string, string>);
        for (const service of ofKind('Service'))
          if (!podLabels.some((labels) => matches(service.spec.selector, labels)))
            problems.push(`Service/${service.metadata.name} selects no pod`);
        for (const pdb of ofKind('PodDisruptionBudget'))
          if (!podLabels.some((labels) => matches(pdb.spec.selector.matchLabels, labels)))
            problems.push(`PDB/${pdb.metadata.name} selects no pod`);
        for (const policy of ofKind('NetworkPolicy')) {
          const selector = policy.spec.podSelector.matchLabels ?? {};
          if (!podLabels.some((labels) => matches(selector, labels))) problems.push(`NetworkPolicy/${policy.metadata.name} selects no pod`);
        }
        for (const scaler of [...ofKind('HorizontalPodAutoscaler'), ...ofKind('ScaledObject')])
          named('Deployment', scaler.spec.scaleTargetRef.name);
        for (const monitor of ofKind('ServiceMonitor')) {
          const services = ofKind('Service').filter((service) => matches(monitor.spec.selector.matchLabels, service.metadata.labels));
          if (services.length !== 1) problems.push(`ServiceMonitor/${monitor.metadata.name} selects ${services.length} Services`);
          for (const endpoint of monitor.spec.endpoints)
            if (!services.some((service) => service.spec.ports.some((port: { name: string }) => port.name === endpoint.port)))
              problems.push(`ServiceMonitor/${monitor.metadata.name} port ${endpoint.port}`);
        }
        for (const ingress of ofKind('Ingress'))
          for (const rule of ingress.spec.rules)
            for (const path of rule.http.paths) {
              const service = named('Service', path.backend.service.name);
              if (!service.spec.ports.some((port: { name: string }) => port.name === path.backend.service.port.name))
                problems.push(`Ingress/${ingress.metadata.name} port ${path.backend.service.port.name}`);
            }
        expect(problems).toEqual([]);
      });

      it('probes /health/live and /health/ready on PORT (API) and METRICS_PORT (worker), ports the containers open and the Services forward', () => {
        const config = named('ConfigMap', 'melody-config').data as Record<string, string>;
        const expectedPort = { api: Number(config.PORT), worker: Number(config.METRICS_PORT) };
        for (const component of ['api', 'worker'] as const) {
          const deployment = named('Deployment', `melody-${component}`);
          const [container] = podTemplate(deployment).spec.containers as Container[];
          const portOf = (port: string | number) =>
            typeof port === 'number' ? port : container.ports?.find((candidate) => candidate.name === port)?.containerPort;
          const probes = {
            startup: container.startupProbe?.httpGet,
            liveness: container.livenessProbe?.httpGet,
            readiness: container.readinessProbe?.httpGet,
          };
          expect({ component, paths: [probes.startup?.path, probes.liveness?.path, probes.readiness?.path] }).toEqual({
            component,
            paths: ['/health/live', '/health/live', '/health/ready'],
          });
          for (const probe of Object.values(probes))
            expect({ component, port: portOf(probe!.port) }).toEqual({ component, port: expectedPort[component] });
          const service = named('Service', `melody-${component}`);
          for (const port of service.spec.ports as { targetPort: string | number }[])
            expect({ component, target: portOf(port.targetPort) }).toEqual({ component, target: expectedPort[component] });
          // Longer than the process's drain (45 s, src/main.ts) plus the API's 5-s preStop.
          expect(podTemplate(deployment).spec.terminationGracePeriodSeconds).toBeGreaterThan(50);
        }
      });

      it('sets only environment variables that src/platform/config.ts (or the AWS SDK credential chain) reads', () => {
        const config = named('ConfigMap', 'melody-config').data as Record<string, string>;
        const unknown = new Set<string>();
        for (const { container } of serviceContainers()) {
          const names = [
            ...(container.env ?? []).map((variable) => variable.name),
            ...(container.envFrom ?? []).flatMap((source) => (source.configMapRef?.name === 'melody-config' ? Object.keys(config) : [])),
          ];
          for (const name of names) if (!variables.has(name) && !AWS_SDK_VARIABLES.has(name)) unknown.add(name);
        }
        expect([...unknown].sort()).toEqual([]);
      });

      it('references Secrets and never inlines one: no Secret object, secret settings only from secretKeyRef', () => {
        expect(ofKind('Secret').map((object) => object.metadata.name)).toEqual([]);
        const inlined: string[] = [];
        for (const { object, container } of workloads().flatMap((object) =>
          (podTemplate(object).spec.containers as Container[]).map((container) => ({ object, container })),
        )) {
          for (const variable of container.env ?? [])
            if (SECRET_SETTING.test(variable.name) && !variable.valueFrom?.secretKeyRef)
              inlined.push(`${object.metadata.name}: ${variable.name}`);
        }
        for (const configMap of ofKind('ConfigMap'))
          for (const key of Object.keys(configMap.data ?? {}))
            if (SECRET_SETTING.test(key)) inlined.push(`ConfigMap ${configMap.metadata.name}: ${key}`);
        expect(inlined).toEqual([]);
      });

      it('scales the workers with KEDA on the Bee-Queue lists under REDIS_PREFIX that the workers take jobs from', () => {
        const prefix = (named('ConfigMap', 'melody-config').data as Record<string, string>).REDIS_PREFIX;
        const scaler = named('ScaledObject', 'melody-worker');
        const lists = (scaler.spec.triggers as { type: string; metadata: { listName: string } }[]).map((trigger) => {
          expect(trigger.type).toBe('redis');
          return trigger.metadata.listName;
        });
        const waiting = Object.values(QUEUE_NAMES).map((queue) => `${prefix}:bq:${queue}:waiting`);
        expect(lists).toEqual(expect.arrayContaining(waiting));
        for (const list of lists)
          expect(list).toMatch(
            new RegExp(`^${prefix.replace(/[.]/g, '\\.')}:bq:(${Object.values(QUEUE_NAMES).join('|')}):(waiting|active)$`),
          );
        expect(scaler.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      });

      it('runs the API as the issue asks: 3–10 replicas on CPU 70 % and memory 80 %, surge 1 / unavailable 0, non-root, read-only, no capabilities', () => {
        const api = named('Deployment', 'melody-api');
        expect(api.spec.replicas).toBeGreaterThanOrEqual(3);
        expect(api.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
        const hpa = named('HorizontalPodAutoscaler', 'melody-api').spec;
        expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([3, 10]);
        expect(
          hpa.metrics.map((metric: { resource: { name: string; target: { averageUtilization: number } } }) => [
            metric.resource.name,
            metric.resource.target.averageUtilization,
          ]),
        ).toEqual([
          ['cpu', 70],
          ['memory', 80],
        ]);
        expect([hpa.behavior.scaleUp.stabilizationWindowSeconds, hpa.behavior.scaleDown.stabilizationWindowSeconds]).toEqual([60, 300]);
        for (const { object, container } of serviceContainers()) {
          const pod = podTemplate(object).spec;
          const security = (container as Container & { securityContext: Record<string, unknown> }).securityContext;
          expect({
            name: object.metadata.name,
            nonRoot: pod.securityContext.runAsNonRoot,
            readOnly: security.readOnlyRootFilesystem,
            caps: security.capabilities,
          }).toEqual({
            name: object.metadata.name,
            nonRoot: true,
            readOnly: true,
            caps: { drop: ['ALL'] },
          });
        }
        expect(podTemplate(api).spec.topologySpreadConstraints.length).toBeGreaterThan(0);
      });
    });
  },
  ['version', '--client'],
);
