import 'reflect-metadata';
import { loadConfigOrExit } from '../../libs/bosun/src/config/config.js';
import { createLogger } from '../../libs/bosun/src/logging/logger.js';
import { runApp } from '../../libs/bosun/src/runtime/run-app.js';
import { SimWorkerAppModule } from './sim-worker.module.js';

/** The sim worker process (end-to-end tests, benchmarks): configured by the same environment as apps/worker. */
const config = loadConfigOrExit({ requireDatabaseUrl: true });
const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId, role: 'worker' });
await runApp(SimWorkerAppModule.register(config, logger), config, logger);
