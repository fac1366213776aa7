import { spawnSync } from 'node:child_process';

/**
 * Runs `promtool check metrics` (Debian package prometheus) on an exposition. Missing promtool fails the test
 * in CI (.ci/run installs it) and is reported and skipped on a developer machine.
 */
export function promtoolCheck(exposition: string): { ran: boolean; code: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    if (process.env.CI) throw new Error('promtool is missing: install the Debian package `prometheus` (apt-get install -y prometheus); .ci/run does this');
    process.stderr.write('[bosun tests] promtool not found: metrics lint skipped (apt-get install -y prometheus to run it)\n');
    return { ran: false, code: null, output: '' };
  }
  return { ran: true, code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The value of one sample in a Prometheus text exposition, or undefined when the series is absent. */
export function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]!] = m[2]!;
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}
