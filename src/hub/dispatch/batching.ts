/**
 * The hub's batching of activity results into orchestration work items.
 */

/**
 * When to hold an instance's work item back so more activity results join
 * it. A worker replays the whole history for every work item, so handing it
 * a large history for a few results wastes it; small histories always go at
 * once.
 */
export interface BatchPolicy {
  /** Histories shorter than this are never held back. */
  minHistory: number;
  /** Send once results x ratio reach the history length. */
  ratio: number;
  /** Never hold the oldest waiting result longer than this. */
  maxHoldMs: number;
}

/** What the store knows about an instance's waiting work. */
export interface InboxSummary {
  messages: number;
  /** Messages that are activity results (TaskCompleted, TaskFailed). */
  results: number;
  /** visibleAt of the oldest visible message. */
  oldest: number;
  pendingActivities: number;
  historyLength: number;
}

/**
 * The time until which to hold the instance back, or undefined to send its
 * work item now. Only a batch made purely of activity results, with more
 * activities still running, is held.
 */
export function holdUntil(
  s: InboxSummary,
  now: number,
  p: BatchPolicy,
): number | undefined {
  if (s.pendingActivities === 0 || s.results < s.messages) return undefined;
  if (s.historyLength < p.minHistory) return undefined;
  if (s.results * p.ratio >= s.historyLength) return undefined;
  const deadline = s.oldest + p.maxHoldMs;
  return deadline > now ? deadline : undefined;
}
