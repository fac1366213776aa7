import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { BosunHealthModule } from '../../libs/bosun/src/health/health.module.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import type { BosunModuleOptions } from '../../libs/bosun/src/module/options.js';
import { memoryLogger } from './nest.js';

export interface HttpBosun {
  app: INestApplication;
  url: string;
  lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A real HTTP Nest app in this process (BosunModule + health), on a free port; not started-waited. */
export async function startHttpBosun(options: Partial<BosunModuleOptions> & Pick<BosunModuleOptions, 'connectionString' | 'role'>): Promise<HttpBosun> {
  const { logger, lines } = memoryLogger();
  const app = await NestFactory.create(
    { module: class HttpBosunRoot {}, imports: [BosunModule.forRoot({ logger, ...options }), BosunHealthModule] },
    { logger: false, abortOnError: false },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  let closed = false;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    lines,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** GET a path: status and parsed JSON (or text) body. */
export async function get(url: string): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // text/plain, e.g. /metrics
  }
  return { status: res.status, body, text };
}
