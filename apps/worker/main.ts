import 'reflect-metadata';
import { loadConfigOrExit } from '../../libs/bosun/src/config/config.js';
import { createLogger } from '../../libs/bosun/src/logging/logger.js';
import { runApp } from '../../libs/bosun/src/runtime/run-app.js';
import { WorkerAppModule } from './app.module.js';

const config = loadConfigOrExit({ requireDatabaseUrl: true });
const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId, role: 'worker' });
await runApp(WorkerAppModule.register(config, logger), config, logger);
