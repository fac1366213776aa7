import { Global, Module, type DynamicModule, type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { BossService } from '../boss/boss.service.js';
import { BosunDatabase } from '../db/database.js';
import { createLogger } from '../logging/logger.js';
import type { QueueDefinition } from '../queues/define-queue.js';
import { getQueueToken } from '../queues/inject-queue.js';
import { BosunClient, QueueClient } from '../queues/queue-client.js';
import { QueueRegistry } from '../queues/queue-registry.js';
import { BosunEvents } from '../runtime/events.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { ROLE_MODULES } from './role-modules.js';
import { BOSUN_LOGGER, BOSUN_OPTIONS, validateModuleOptions, type BosunModuleOptions } from './options.js';

export interface BosunModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  useFactory: (...args: any[]) => BosunModuleOptions | Promise<BosunModuleOptions>;
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Queues to make injectable with @InjectQueue (their options are only known statically here). */
  queues?: QueueDefinition<any>[];
}

function queueProviders(queues: QueueDefinition<any>[]): Provider[] {
  return queues.map((def) => ({
    provide: getQueueToken(def),
    useFactory: (registry: QueueRegistry, boss: BossService) => new QueueClient(registry.register(def), boss),
    inject: [QueueRegistry, BossService],
  }));
}

const CORE_PROVIDERS: Provider[] = [
  {
    provide: BOSUN_LOGGER,
    useFactory: (options: BosunModuleOptions): Logger =>
      options.logger ?? createLogger({ instanceId: options.instanceId, role: options.role }),
    inject: [BOSUN_OPTIONS],
  },
  Lifecycle,
  BosunEvents,
  BosunDatabase,
  QueueRegistry,
  BossService,
  BosunClient,
];

const CORE_EXPORTS = [BOSUN_OPTIONS, BOSUN_LOGGER, Lifecycle, BosunEvents, BosunDatabase, QueueRegistry, BossService, BosunClient];

/** The bosun library: import forRoot once in the app root, forFeature in modules that declare queues. */
@Global()
@Module({})
export class BosunModule {
  static forRoot(options: BosunModuleOptions): DynamicModule {
    validateModuleOptions(options);
    const queues = queueProviders(options.queues ?? []);
    return {
      module: BosunModule,
      global: true,
      imports: [...ROLE_MODULES],
      providers: [{ provide: BOSUN_OPTIONS, useValue: options }, ...CORE_PROVIDERS, ...queues],
      exports: [...CORE_EXPORTS, ...queues.map((p) => (p as { provide: string }).provide)],
    };
  }

  static forRootAsync(options: BosunModuleAsyncOptions): DynamicModule {
    const queues = queueProviders(options.queues ?? []);
    return {
      module: BosunModule,
      global: true,
      imports: [...(options.imports ?? []), ...ROLE_MODULES],
      providers: [
        {
          provide: BOSUN_OPTIONS,
          useFactory: async (...args: unknown[]) => {
            const resolved = validateModuleOptions(await options.useFactory(...args));
            return { ...resolved, queues: [...(resolved.queues ?? []), ...(options.queues ?? [])] };
          },
          inject: options.inject ?? [],
        },
        ...CORE_PROVIDERS,
        ...queues,
      ],
      exports: [...CORE_EXPORTS, ...queues.map((p) => (p as { provide: string }).provide)],
    };
  }

  /** Declares a feature's queues: they are created or updated at start and injectable with @InjectQueue. */
  static forFeature(queues: QueueDefinition<any>[]): DynamicModule {
    const providers = queueProviders(queues);
    return {
      module: BosunFeatureModule,
      providers,
      exports: providers.map((p) => (p as { provide: string }).provide),
    };
  }
}

@Module({})
export class BosunFeatureModule {}
