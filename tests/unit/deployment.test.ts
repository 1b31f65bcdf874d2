/**
 * The deployment files, read as Docker, Prometheus and Grafana would read them (Docker cannot
 * run here): docker-compose.yml has the real shape (PostgreSQL, MinIO with its bucket made at
 * start, one API process taking no jobs, two workers, all on the same database, bucket and
 * secrets), Prometheus scrapes every StoryForge process where it serves metrics, and every panel
 * of the Grafana dashboard asks for metrics a real StoryForge process exports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Metrics } from '../../src/metrics/registry';
import { Logger } from '../../src/util/logger';
import { createTestDatabase } from '../support/test-db';

const ROOT = join(__dirname, '../..');
// merge: Compose reads `<<: *anchor` merge keys (YAML 1.1), which YAML 1.2 leaves out.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = compose.services as Record<string, any>;

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, MinIO and its bucket, one API and two workers, with monitoring behind a profile', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'bucket', 'grafana', 'minio', 'postgres', 'prometheus', 'worker']);
    expect(services.app.environment.STORYFORGE_WORKERS).toBe('0');
    expect(services.worker.command).toEqual(['node', 'dist/src/cli/storyforge.js', 'worker']);
    expect(services.worker.deploy.replicas).toBe(2);
    expect(services.prometheus.profiles).toEqual(['monitoring']);
    expect(services.grafana.profiles).toEqual(['monitoring']);
    for (const s of ['postgres', 'minio', 'bucket', 'app', 'worker']) expect(services[s].profiles).toBeUndefined();
    // The bucket the app uses is the one made at start, before the app starts.
    expect(services.bucket.entrypoint.join(' ')).toContain(`local/${services.app.environment.STORYFORGE_S3_BUCKET}`);
    expect(services.app.depends_on.bucket.condition).toBe('service_completed_successfully');
  });

  it('gives the API and the workers one database, one bucket and the same secrets', () => {
    const shared = ['DATABASE_URL', 'STORYFORGE_S3_BUCKET', 'STORYFORGE_S3_ENDPOINT', 'STORYFORGE_S3_FORCE_PATH_STYLE', 'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY', 'STORYFORGE_URL_SECRET', 'STORYFORGE_WEBHOOK_KEY'];
    for (const name of shared) {
      expect({ name, app: services.app.environment[name] }).toEqual({ name, app: expect.any(String) });
      expect(services.worker.environment[name]).toBe(services.app.environment[name]);
    }
    // Secrets are required from the operator, never defaulted in the file.
    for (const name of ['STORYFORGE_URL_SECRET', 'STORYFORGE_WEBHOOK_KEY', 'AWS_SECRET_ACCESS_KEY']) {
      expect(services.app.environment[name]).toMatch(/^\$\{\w+:\?/);
    }
    expect(services.app.environment.STORYFORGE_S3_ENDPOINT).toBe('http://minio:9000');
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    for (const m of readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/\$\{(\w+):\?/g)) expect(example).toContain(`${m[1]}=`);
  });

  it('lets Prometheus scrape the API and every worker where they serve metrics, and mounts files that exist', () => {
    const prom = parse(readFileSync(join(ROOT, 'docs/monitoring/prometheus.yml'), 'utf8'));
    const port = Number(services.app.environment.STORYFORGE_METRICS_PORT);
    expect(Number(services.worker.environment.STORYFORGE_METRICS_PORT)).toBe(port);
    const jobs = Object.fromEntries(prom.scrape_configs.map((j: any) => [j.job_name, j]));
    expect(jobs['storyforge-api'].static_configs[0].targets).toEqual([`app:${port}`]);
    expect(jobs['storyforge-worker'].dns_sd_configs[0]).toMatchObject({ names: ['worker'], port });
    for (const s of ['prometheus', 'grafana']) {
      for (const volume of services[s].volumes as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect({ volume, exists: existsSync(join(ROOT, source)) }).toEqual({ volume, exists: true });
      }
    }
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana-dashboard.json'), 'utf8'));
  const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));

  it('asks only for metrics a StoryForge process exports', async () => {
    const db = await createTestDatabase();
    try {
      const text = await new Metrics(db.dataSource, new Logger('error', {}, () => undefined)).scrape();
      const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!]));
      const asked = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:storyforge|nodejs|process)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
      expect([...asked].filter((m) => !exported.has(m))).toEqual([]);
      // Every part of the list has a panel: latency, queue, jobs and steps, bank cache, webhooks, pool, event loop.
      for (const family of ['storyforge_graphql_request_duration_seconds', 'storyforge_generation_jobs', 'storyforge_generation_job_duration_seconds',
        'storyforge_generation_step_duration_seconds', 'storyforge_bank_cache_lookups_total', 'storyforge_webhook_deliveries_total',
        'storyforge_db_pool_clients', 'nodejs_eventloop_lag_p99_seconds']) {
        expect({ family, used: exprs.some((e) => e.includes(family)) }).toEqual({ family, used: true });
      }
    } finally {
      await db.drop();
    }
  });

  it('reads from the datasource Grafana is provisioned with', () => {
    const source = parse(readFileSync(join(ROOT, 'docs/monitoring/grafana-datasource.yml'), 'utf8')).datasources[0];
    for (const p of dashboard.panels) expect(p.datasource.uid).toBe(source.uid);
    expect(source.url).toBe('http://prometheus:9090');
  });
});
