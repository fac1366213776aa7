import { Inject } from '@nestjs/common';
import type { QueueDefinition } from './define-queue.js';

export function getQueueToken(queue: QueueDefinition<any> | string): string {
  return `bosun:queue:${typeof queue === 'string' ? queue : queue.name}`;
}

/** Injects the QueueClient of a queue declared with BosunModule.forFeature (or forRoot's queues). */
export function InjectQueue(queue: QueueDefinition<any> | string): ParameterDecorator {
  return Inject(getQueueToken(queue)) as ParameterDecorator;
}
