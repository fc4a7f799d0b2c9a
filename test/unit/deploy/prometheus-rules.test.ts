/**
 * The monitoring configuration under deploy/prometheus, checked by Prometheus's own tool (promtool,
 * Debian package `prometheus`): the compose scrape config and the alert rules are valid, every alert's
 * unit tests pass, each alert has a test where it fires and one where it does not, and the Kubernetes
 * PrometheusRule holds exactly the same rules.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describeWithProgram } from '../../support/required-tool.js';

const DIR = join(process.cwd(), 'deploy', 'prometheus');

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

interface RuleGroup {
  name: string;
  rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}

const alertsFile = parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as { groups: RuleGroup[] };
const alertNames = alertsFile.groups.flatMap((group) => group.rules.map((rule) => rule.alert!));

describeWithProgram('promtool', 'the Prometheus configuration and alert rules', () => {
  it('passes promtool check config (the compose scrape config, with its rule file)', () => {
    const result = promtool('check', 'config', 'prometheus.yml');
    expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('passes promtool check rules', () => {
    const result = promtool('check', 'rules', 'alerts.yml');
    expect(result).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${alertNames.length} rules found`) });
  });

  it('passes every unit test of promtool test rules', () => {
    const result = promtool('test', 'rules', 'alerts.test.yml');
    expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});

describe('the alert rules', () => {
  it('cover the six conditions of the issue: error rate, backlog, latency, open breaker, lost workers, readiness', () => {
    expect(alertNames).toEqual([
      'MelodyErrorRateHigh',
      'MelodyBacklogHigh',
      'MelodyLatencyHigh',
      'MelodyCircuitBreakerOpen',
      'MelodyWorkerDown',
      'MelodyNoWorkers',
      'MelodyNotReady',
    ]);
  });

  it('use the defaults of ALERT_ERROR_RATE (0.2), ALERT_BACKLOG_JOBS (50) and ALERT_LATENCY_SECONDS (180)', () => {
    const expr = (name: string) => alertsFile.groups[0].rules.find((rule) => rule.alert === name)!.expr.trim();
    expect(expr('MelodyErrorRateHigh')).toMatch(/> 0\.2$/);
    expect(expr('MelodyBacklogHigh')).toMatch(/> 50$/);
    expect(expr('MelodyLatencyHigh')).toMatch(/> 180$/);
  });

  it('each have a unit test in which they fire and one in which they do not', () => {
    const tests = (parse(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8')) as { tests: RuleTest[] }).tests;
    const cases = tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const name of alertNames) {
      const mine = cases.filter((c) => c.alertname === name);
      expect({ name, fires: mine.some((c) => c.exp_alerts.length > 0), quiet: mine.some((c) => c.exp_alerts.length === 0) }).toEqual({
        name,
        fires: true,
        quiet: true,
      });
    }
  });

  it('are the same in the Kubernetes PrometheusRule as in deploy/prometheus/alerts.yml', () => {
    const rule = parse(readFileSync(join(process.cwd(), 'deploy', 'k8s', 'base', 'prometheus-rule.yaml'), 'utf8')) as {
      kind: string;
      spec: { groups: RuleGroup[] };
    };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec.groups).toEqual(alertsFile.groups);
  });
});
