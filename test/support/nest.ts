import { Test } from '@nestjs/testing';
import type { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { Writable } from 'node:stream';
import { BossService } from '../../libs/bosun/src/boss/boss.service.js';
import { createLogger } from '../../libs/bosun/src/logging/logger.js';
import { BosunModule } from '../../libs/bosun/src/module/bosun.module.js';
import type { BosunModuleOptions } from '../../libs/bosun/src/module/options.js';

/** Captures a component's JSON log lines in memory so tests can assert on them. */
export function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), lines };
}

/** A Nest application context with BosunModule.forRoot, started and ready to send. */
export async function startBosun(
  options: Partial<BosunModuleOptions> & Pick<BosunModuleOptions, 'connectionString'>,
  imports: Array<DynamicModule | Type> = [],
): Promise<{ app: INestApplicationContext; boss: BossService; lines: Array<Record<string, unknown>> }> {
  const { logger, lines } = memoryLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [BosunModule.forRoot({ role: 'client', migrate: true, logger, ...options }), ...imports],
  }).compile();
  const app = await moduleRef.init();
  const boss = app.get(BossService);
  try {
    await boss.whenStarted(30_000);
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, boss, lines };
}
