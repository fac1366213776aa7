import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { PayloadClass } from './define-queue.js';

export interface PayloadIssue {
  /** Dotted path of the offending field, e.g. `to` or `items.0.sku`. */
  field: string;
  /** The rules it broke, as class-validator words them. */
  messages: string[];
}

export class PayloadValidationError extends Error {
  constructor(
    readonly queue: string,
    readonly issues: PayloadIssue[],
    readonly index?: number,
  ) {
    const where = index === undefined ? '' : ` (job ${index})`;
    const detail = issues.map((i) => `${i.field}: ${i.messages.join('; ')}`).join(', ');
    super(`invalid payload for queue ${queue}${where}: ${detail}`);
    this.name = 'PayloadValidationError';
  }
}

function flatten(errors: ValidationError[], prefix = ''): PayloadIssue[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Validates data against the queue's payload class. Unknown fields are refused too,
 * so a typo in a field name fails loudly instead of being silently dropped.
 */
export function validatePayload<T extends object>(queue: string, payload: PayloadClass<T> | undefined, data: unknown, index?: number): T {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PayloadValidationError(queue, [{ field: '(payload)', messages: ['must be a JSON object'] }], index);
  }
  try {
    JSON.stringify(data);
  } catch (error) {
    throw new PayloadValidationError(queue, [{ field: '(payload)', messages: [`must be JSON-serialisable: ${(error as Error).message}`] }], index);
  }
  if (!payload) return data as T;
  const instance = plainToInstance(payload, data) as T;
  const errors = validateSync(instance, { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new PayloadValidationError(queue, flatten(errors), index);
  return instance;
}
