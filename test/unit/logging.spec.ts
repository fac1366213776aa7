import { Writable } from 'node:stream';
import { pino } from 'pino';
import { currentJobContext, runWithJobContext } from '../../libs/bosun/src/logging/job-context.js';
import { createLogger, logger } from '../../libs/bosun/src/logging/logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('writes JSON lines with level, ISO time, instance and role', () => {
    const { lines, stream } = capture();
    createLogger({ destination: stream, instanceId: 'w-7', role: 'worker' }).info({ port: 1 }, 'listening');
    expect(lines).toEqual([{ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), instance: 'w-7', role: 'worker', port: 1, msg: 'listening' }]);
  });

  it.each([
    ['warn', ['warn', 'error']],
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['silent', []],
  ] as const)('LOG_LEVEL %s lets through %j', (level, expected) => {
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream, level });
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.level)).toEqual(expected);
  });

  it('adds queue, jobId and attempt to every line inside runWithJobContext, across awaits, and nowhere else', async () => {
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream, instanceId: 'w-1' });
    log.info('before');
    await runWithJobContext({ queue: 'email', jobId: 'j-1', attempt: 2 }, async () => {
      log.info('start');
      await new Promise((r) => setTimeout(r, 1));
      logger(log).warn({ to: 'a@b.c' }, 'slow provider');
      expect(currentJobContext()).toEqual({ queue: 'email', jobId: 'j-1', attempt: 2 });
    });
    // Two handlers interleaved keep their own context.
    await Promise.all([
      runWithJobContext({ queue: 'q', jobId: 'x', attempt: 1 }, async () => { await new Promise((r) => setTimeout(r, 5)); log.info('x done'); }),
      runWithJobContext({ queue: 'q', jobId: 'y', attempt: 1 }, async () => { log.info('y done'); }),
    ]);
    log.info('after');
    expect(lines.map((l) => [l.msg, l.queue, l.jobId, l.attempt])).toEqual([
      ['before', undefined, undefined, undefined],
      ['start', 'email', 'j-1', 2],
      ['slow provider', 'email', 'j-1', 2],
      ['y done', 'q', 'y', 1],
      ['x done', 'q', 'x', 1],
      ['after', undefined, undefined, undefined],
    ]);
    expect(lines.filter((l) => l.msg === 'slow provider')[0]).toMatchObject({ instance: 'w-1', to: 'a@b.c', level: 'warn' });
    expect(currentJobContext()).toBeUndefined();
  });

  it("logger() gives a user's own pino logger the job context as bindings", () => {
    const { lines, stream } = capture();
    const own = pino({ base: null, timestamp: false }, stream);
    runWithJobContext({ queue: 'reports', jobId: 'r-9', attempt: 1 }, () => logger(own).info('rendering'));
    logger(own).info('outside');
    expect(lines).toEqual([
      { level: 30, queue: 'reports', jobId: 'r-9', attempt: 1, msg: 'rendering' },
      { level: 30, msg: 'outside' },
    ]);
  });
});
