import { ConfigError, loadConfig } from '../../libs/bosun/src/config/config.js';
import { BosunOptionsError, operationsOptions, validateModuleOptions } from '../../libs/bosun/src/module/options.js';

describe('operations configuration', () => {
  it('defaults and parses the health threshold and queue metrics settings', () => {
    expect(loadConfig({})).toMatchObject({ readyMaxJobAgeSeconds: 300, queueMetrics: 'leader', queueMetricsIntervalSeconds: 15 });
    const config = loadConfig({ BOSUN_READY_MAX_JOB_AGE_SECONDS: '0', BOSUN_QUEUE_METRICS: 'Always', BOSUN_QUEUE_METRICS_INTERVAL_SECONDS: '5' });
    expect(operationsOptions(config)).toEqual({ readyMaxJobAgeSeconds: 0, queueMetrics: 'always', queueMetricsIntervalSeconds: 5 });
  });

  it.each([
    [{ BOSUN_READY_MAX_JOB_AGE_SECONDS: '-1' }, 'BOSUN_READY_MAX_JOB_AGE_SECONDS', 'BOSUN_READY_MAX_JOB_AGE_SECONDS must be an integer between 0 and 86400 (0 turns the check off), got "-1"'],
    [{ BOSUN_READY_MAX_JOB_AGE_SECONDS: 'soon' }, 'BOSUN_READY_MAX_JOB_AGE_SECONDS', 'BOSUN_READY_MAX_JOB_AGE_SECONDS must be an integer between 0 and 86400 (0 turns the check off), got "soon"'],
    [{ BOSUN_QUEUE_METRICS: 'sometimes' }, 'BOSUN_QUEUE_METRICS', 'BOSUN_QUEUE_METRICS must be one of leader, always, off, got "sometimes"'],
    [{ BOSUN_QUEUE_METRICS_INTERVAL_SECONDS: '0' }, 'BOSUN_QUEUE_METRICS_INTERVAL_SECONDS', 'BOSUN_QUEUE_METRICS_INTERVAL_SECONDS must be an integer between 1 and 3600, got "0"'],
  ])('refuses %j naming %s and the rule', (env, variable, message) => {
    let error: unknown;
    try {
      loadConfig(env as NodeJS.ProcessEnv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toBe(message);
  });

  it('validates the module options with the field named', () => {
    const base = { connectionString: 'postgres://x/y', role: 'worker' as const };
    expect(() => validateModuleOptions({ ...base, readyMaxJobAgeSeconds: 1.5 })).toThrow(new BosunOptionsError('BosunModule option readyMaxJobAgeSeconds must be an integer >= 0, got 1.5', 'readyMaxJobAgeSeconds'));
    expect(() => validateModuleOptions({ ...base, queueMetrics: 'never' as never })).toThrow('BosunModule option queueMetrics must be one of leader, always, off, got "never"');
    expect(() => validateModuleOptions({ ...base, queueMetricsIntervalSeconds: 0 })).toThrow('queueMetricsIntervalSeconds must be an integer >= 1');
  });
});
