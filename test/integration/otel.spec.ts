import type { Span, SpanOptions, Tracer, TracerProvider } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { defineQueue } from '../../libs/bosun/src/queues/define-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startBosun } from '../support/nest.js';

/** Records span names and kinds: what an OpenTelemetry SDK's tracer provider would receive from pg-boss. */
function recordingProvider() {
  const spans: Array<{ name: string; kind?: number; attributes: Record<string, unknown>; ended: boolean }> = [];
  const noop = trace.getTracerProvider().getTracer('noop');
  const tracer: Tracer = {
    startSpan(name: string, options?: SpanOptions) {
      const record = { name, kind: options?.kind, attributes: { ...(options?.attributes ?? {}) }, ended: false };
      spans.push(record);
      const span = noop.startSpan(name);
      return Object.assign(Object.create(span), {
        setAttribute: (k: string, v: unknown) => ((record.attributes[k] = v), span),
        setAttributes: (a: Record<string, unknown>) => (Object.assign(record.attributes, a), span),
        end: () => void (record.ended = true),
      }) as Span;
    },
    startActiveSpan: ((name: string, ...rest: unknown[]) => noop.startActiveSpan(name, ...(rest as [any]))) as Tracer['startActiveSpan'],
  };
  const provider: TracerProvider = { getTracer: () => tracer };
  return { provider, spans };
}

describe('OpenTelemetry: pg-boss spans reach the tracer provider given in BosunModule options', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('otel');
  });
  afterAll(async () => db.drop());

  it('emits a PRODUCER span per send and CLIENT spans for fetch and settle, with messaging attributes', async () => {
    class Ping {}
    const q = defineQueue('ops.otel', { payload: Ping });
    const { provider, spans } = recordingProvider();
    const { app, boss } = await startBosun({ connectionString: db.url, role: 'worker', queues: [q], openTelemetry: { tracerProvider: provider } });
    try {
      const id = await boss.boss.send('ops.otel', {});
      const [job] = await boss.boss.fetch('ops.otel');
      await boss.boss.complete('ops.otel', job!.id);
      expect(job!.id).toBe(id);
      const byName = (n: string) => spans.find((s) => s.name === n);
      expect(byName('send ops.otel')).toMatchObject({ kind: 3, ended: true, attributes: { 'messaging.system': 'pg-boss', 'messaging.destination.name': 'ops.otel' } });
      expect(byName('receive ops.otel')).toMatchObject({ kind: 2, ended: true });
      expect(byName('complete ops.otel')).toMatchObject({ kind: 2, ended: true });
    } finally {
      await app.close();
    }
  });
});
