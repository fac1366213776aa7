/**
 * Misfire and overlap policies as pure functions: the runner asks them what to do and records the answer.
 */

export const MISFIRE_POLICIES = ['skip', 'latest', 'all'] as const;
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];

export const OVERLAP_POLICIES = ['allow', 'skip', 'queue'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const POLICY_DEFAULTS = {
  misfire: 'latest' as MisfirePolicy,
  overlap: 'allow' as OverlapPolicy,
  /** Late instants older than this are never fired, whatever the policy. */
  catchUpSeconds: 3600,
  /** An instant fired within this much of its due time is on time, not a misfire. */
  misfireGraceSeconds: 5,
};

export interface MisfireInput {
  policy: MisfirePolicy;
  /** Due instants not yet handled, oldest first, all <= now. */
  due: Date[];
  now: Date;
  catchUpSeconds: number;
  misfireGraceSeconds: number;
}

export interface MisfirePlan {
  fire: Date[];
  /** Late instants recorded as skipped: misfire. */
  skip: Date[];
}

/**
 * Which of the pending instants to fire. On-time ones (within the grace) always fire; late ones:
 * skip: none; latest: only the newest late one, and only if nothing on time fires; all: every late one
 * within the catch-up window. Late instants outside the window are skipped under every policy.
 */
export function planMisfire(input: MisfireInput): MisfirePlan {
  const now = input.now.getTime();
  const graceMs = input.misfireGraceSeconds * 1000;
  const windowMs = Math.max(input.catchUpSeconds * 1000, graceMs);
  const onTime: Date[] = [];
  const lateInWindow: Date[] = [];
  const skip: Date[] = [];
  for (const at of input.due) {
    const lag = now - at.getTime();
    if (lag <= graceMs) onTime.push(at);
    else if (lag <= windowMs) lateInWindow.push(at);
    else skip.push(at);
  }
  switch (input.policy) {
    case 'skip':
      return { fire: onTime, skip: [...skip, ...lateInWindow] };
    case 'latest': {
      if (onTime.length > 0 || lateInWindow.length === 0) return { fire: onTime, skip: [...skip, ...lateInWindow] };
      const latest = lateInWindow.at(-1)!;
      return { fire: [latest], skip: [...skip, ...lateInWindow.slice(0, -1)] };
    }
    case 'all':
      return { fire: [...lateInWindow, ...onTime], skip };
  }
}

/** What the previous run of the same schedule is doing when the next one comes due. */
export type PreviousRun = 'none' | 'finished' | 'pending';

export type OverlapDecision = 'fire' | 'skip' | 'wait';

/**
 * allow: fire regardless; skip: fire only if the previous run finished (else skipped: overlap);
 * queue: if the previous run is still queued or active, wait and fire when it ends.
 * A schedule with runs already waiting keeps order: a new one waits behind them.
 */
export function decideOverlap(policy: OverlapPolicy, previous: PreviousRun, waiting = 0): OverlapDecision {
  if (policy === 'allow') return 'fire';
  const busy = previous === 'pending';
  if (policy === 'skip') return busy ? 'skip' : 'fire';
  return busy || waiting > 0 ? 'wait' : 'fire';
}
