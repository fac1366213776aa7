import { decideOverlap, planMisfire, type MisfirePolicy } from '../../libs/bosun/src/scheduler/policies.js';

const now = new Date('2026-01-01T12:00:00Z');
/** Due instants `secondsAgo` before the stubbed now, oldest first. */
const ago = (...secondsAgo: number[]) => secondsAgo.map((s) => new Date(now.getTime() - s * 1000));
const iso = (dates: Date[]) => dates.map((d) => (now.getTime() - d.getTime()) / 1000);

function plan(policy: MisfirePolicy, due: Date[], catchUpSeconds = 60, misfireGraceSeconds = 5) {
  const p = planMisfire({ policy, due, now, catchUpSeconds, misfireGraceSeconds });
  return { fire: iso(p.fire), skip: iso(p.skip) };
}

describe('misfire policy', () => {
  it('on-time instants fire under every policy', () => {
    for (const policy of ['skip', 'latest', 'all'] as const) expect(plan(policy, ago(3, 0))).toEqual({ fire: [3, 0], skip: [] });
  });

  it('skip: late instants are recorded as skipped', () => {
    expect(plan('skip', ago(40, 30, 20))).toEqual({ fire: [], skip: [40, 30, 20] });
  });

  it('latest: only the newest late instant fires', () => {
    expect(plan('latest', ago(40, 30, 20))).toEqual({ fire: [20], skip: [40, 30] });
  });

  it('latest: nothing late fires when an on-time instant does', () => {
    expect(plan('latest', ago(40, 30, 2))).toEqual({ fire: [2], skip: [40, 30] });
  });

  it('all: every late instant within the catch-up window fires, oldest first; older ones are skipped', () => {
    expect(plan('all', ago(120, 90, 50, 10, 1))).toEqual({ fire: [50, 10, 1], skip: [120, 90] });
  });

  it('latest: a late instant outside the window does not fire', () => {
    expect(plan('latest', ago(200, 100), 60)).toEqual({ fire: [], skip: [200, 100] });
  });

  it('the grace decides what counts as late', () => {
    expect(plan('skip', ago(4), 60, 5).fire).toEqual([4]);
    expect(plan('skip', ago(6), 60, 5).skip).toEqual([6]);
    expect(plan('skip', ago(1), 60, 0).skip).toEqual([1]);
  });

  it('nothing due, nothing to do', () => {
    expect(plan('all', [])).toEqual({ fire: [], skip: [] });
  });
});

describe('overlap policy', () => {
  it('allow fires regardless', () => {
    expect(decideOverlap('allow', 'pending')).toBe('fire');
    expect(decideOverlap('allow', 'none')).toBe('fire');
  });
  it('skip fires only when the previous run is not queued or active', () => {
    expect(decideOverlap('skip', 'pending')).toBe('skip');
    expect(decideOverlap('skip', 'finished')).toBe('fire');
    expect(decideOverlap('skip', 'none')).toBe('fire');
  });
  it('queue waits behind a running or waiting run', () => {
    expect(decideOverlap('queue', 'pending')).toBe('wait');
    expect(decideOverlap('queue', 'finished', 1)).toBe('wait');
    expect(decideOverlap('queue', 'finished', 0)).toBe('fire');
  });
});
