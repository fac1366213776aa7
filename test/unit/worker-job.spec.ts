import { describeError } from '../../libs/bosun/src/worker/job.js';
import { PROCESSOR_DEFAULTS, resolveProcessorOptions } from '../../libs/bosun/src/worker/processor.decorator.js';

describe('describeError', () => {
  it('keeps an Error as it is, with its cause', () => {
    const error = new TypeError('bad input', { cause: new Error('deeper') });
    expect(describeError(error)).toEqual({ message: 'bad input (cause: deeper)', name: 'TypeError', stack: error.stack });
  });
  it('gives any thrown value a readable message', () => {
    expect(describeError('plain')).toEqual({ message: 'plain', name: 'string' });
    expect(describeError('')).toEqual({ message: '(empty string thrown)', name: 'string' });
    expect(describeError(undefined).message).toBe('handler threw undefined');
    expect(describeError(null).message).toBe('handler threw null');
    expect(describeError({ code: 1 }).message).toBe('handler threw a non-Error value: {"code":1}');
    expect(describeError(42n).message).toBe('handler threw a non-Error value: 42');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular).message).toBe('handler threw a non-Error value: [object Object]');
    expect(describeError(new Error('')).message).toBe('Error');
  });
});

describe('resolveProcessorOptions', () => {
  it('fills defaults and never fetches more than the concurrency', () => {
    // Half the concurrency by default: a second claim is on its way while the first batch runs.
    expect(resolveProcessorOptions('q')).toEqual({ concurrency: PROCESSOR_DEFAULTS.concurrency, batchSize: PROCESSOR_DEFAULTS.concurrency / 2, pollingIntervalSeconds: 2 });
    expect(resolveProcessorOptions('q', { concurrency: 7 }).batchSize).toBe(4);
    expect(resolveProcessorOptions('q', { concurrency: 1 }).batchSize).toBe(1);
    expect(resolveProcessorOptions('q', { concurrency: 3, batchSize: 50 })).toEqual({ concurrency: 3, batchSize: 3, pollingIntervalSeconds: 2 });
    expect(resolveProcessorOptions('q', { concurrency: 5000 }).batchSize).toBe(1000);
    expect(resolveProcessorOptions('q', { concurrency: 5000, batchSize: 300 }).batchSize).toBe(300);
  });
  it('names the field and the rule', () => {
    expect(() => resolveProcessorOptions('q', { concurrency: 1.5 })).toThrow('@Processor(q): concurrency must be an integer between 1 and 10000, got 1.5');
    expect(() => resolveProcessorOptions('q', { batchSize: 0 })).toThrow(/batchSize must be an integer between 1 and 1000/);
    expect(() => resolveProcessorOptions('q', { pollingIntervalSeconds: 0 })).toThrow(/pollingIntervalSeconds must be a number of seconds between 0.1 and 3600/);
  });
});
