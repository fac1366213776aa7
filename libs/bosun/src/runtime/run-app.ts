import { type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import type { BosunConfig } from '../config/config.js';
import { PinoNestLogger } from '../logging/logger.js';
import { Lifecycle } from './lifecycle.js';

/**
 * Boots a Nest app that imports BosunModule, serves HTTP, and shuts down in order on SIGTERM/SIGINT:
 * readiness 503 at once, drain within the timeout, close, exit 0.
 */
export async function runApp(module: DynamicModule | Type, config: BosunConfig, logger: Logger): Promise<INestApplication> {
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error.message, stack: error.stack }, 'uncaught exception');
    logger.flush();
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => logger.error({ err: String((reason as Error)?.message ?? reason) }, 'unhandled rejection'));

  let app: INestApplication;
  try {
    app = await NestFactory.create(module, { logger: new PinoNestLogger(logger), abortOnError: false });
    await app.listen(config.port, '0.0.0.0');
  } catch (error) {
    logger.fatal({ err: (error as Error).message }, 'failed to start');
    logger.flush();
    process.exit(1);
  }
  logger.info({ port: config.port }, 'listening');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal, drainTimeoutSeconds: config.drainTimeoutSeconds }, 'shutting down: draining');
    const lifecycle = app.get(Lifecycle);
    try {
      await lifecycle.drain(config.drainTimeoutSeconds);
      await app.close();
      lifecycle.phase = 'stopped';
      logger.info('stopped');
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'error during shutdown');
    }
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return app;
}
