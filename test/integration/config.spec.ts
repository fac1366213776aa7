import { ConfigError, loadConfig } from '../../libs/bosun/src/config/config.js';
import { spawnApp } from '../support/processes.js';

const DB = 'postgres://postgres@127.0.0.1:5432/postgres';

describe('configuration', () => {
  it('applies defaults and parses values', () => {
    const config = loadConfig({ DATABASE_URL: DB, BOSUN_QUEUES: 'email, reports.monthly ,x' }, { requireDatabaseUrl: true });
    expect(config).toMatchObject({ databaseUrl: DB, port: 3000, logLevel: 'info', dbPoolMax: 10, drainTimeoutSeconds: 25, leaseSeconds: 10, queues: ['email', 'reports.monthly', 'x'] });
    expect(config.instanceId).toEqual(expect.any(String));
    expect(loadConfig({ PORT: '8080', LOG_LEVEL: 'DEBUG', BOSUN_INSTANCE_ID: 'w-1' })).toMatchObject({ port: 8080, logLevel: 'debug', instanceId: 'w-1' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'PORT must be an integer between 1 and 65535, got "abc"'],
    [{ PORT: '70000' }, 'PORT', 'PORT must be an integer between 1 and 65535, got "70000"'],
    [{ PORT: '0' }, 'PORT', 'PORT must be an integer between 1 and 65535, got "0"'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'DATABASE_URL must be a postgres:// or postgresql:// connection string, got "mysql://x"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ BOSUN_QUEUES: 'a,,b' }, 'BOSUN_QUEUES', 'BOSUN_QUEUES must be a comma-separated list of queue names (letters, digits, _ . - /), got "a,,b"'],
    [{ BOSUN_DB_POOL_MAX: '0' }, 'BOSUN_DB_POOL_MAX', 'BOSUN_DB_POOL_MAX must be an integer between 1 and 200, got "0"'],
    [{ BOSUN_DRAIN_TIMEOUT_SECONDS: '1.5' }, 'BOSUN_DRAIN_TIMEOUT_SECONDS', 'BOSUN_DRAIN_TIMEOUT_SECONDS must be an integer between 0 and 3600, got "1.5"'],
    [{ BOSUN_INSTANCE_ID: 'has space' }, 'BOSUN_INSTANCE_ID', 'BOSUN_INSTANCE_ID must be 1 to 63 letters, digits, dots, dashes, underscores or colons, got "has space"'],
    [{ BOSUN_JWT_SECRET: 'short' }, 'BOSUN_JWT_SECRET', 'BOSUN_JWT_SECRET must be at least 32 characters long, got (hidden)'],
  ])('refuses %j naming %s and the rule', (env, variable, message) => {
    const error = (() => {
      try {
        loadConfig(env as NodeJS.ProcessEnv);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(message);
  });

  it('requires DATABASE_URL where a process needs one', () => {
    expect(() => loadConfig({}, { requireDatabaseUrl: true })).toThrow('DATABASE_URL is required: a postgres:// connection string');
  });

  it.each([
    ['worker', { PORT: 'abc' }, 'bosun: configuration error: PORT must be an integer between 1 and 65535, got "abc"'],
    ['scheduler', { LOG_LEVEL: 'loud' }, 'bosun: configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    ['worker', { DATABASE_URL: '' }, 'bosun: configuration error: DATABASE_URL is required: a postgres:// connection string'],
  ] as const)('the %s app with %j prints one line and exits 1', async (app, env, line) => {
    const proc = spawnApp(app, { DATABASE_URL: DB, ...env });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    expect(proc.output()).toBe(`${line}\n`);
  });
});
