/**
 * In-process wake-ups for callers waiting on an instance's state
 * (WaitForInstanceStart, WaitForInstanceCompletion). A commit that may change
 * an instance's status calls `notify`; waiters then re-read the store.
 */
export class Waiters {
  private readonly byInstance = new Map<string, Set<() => void>>();

  /**
   * Resolves on the next notify for the instance, when `signal` aborts, or
   * after `timeoutMs`.
   * Register before reading state, so no change between the read and the
   * wait is missed.
   */
  next(
    instanceId: string,
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byInstance.get(instanceId);
      if (!set) {
        set = new Set();
        this.byInstance.set(instanceId, set);
      }
      // A store shared with other processes may miss a wake-up: re-check.
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => done(), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        const s = this.byInstance.get(instanceId);
        s?.delete(done);
        if (s?.size === 0) this.byInstance.delete(instanceId);
        signal.removeEventListener("abort", done);
        resolve();
      };
      set.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Wakes every waiter of the instance. */
  notify(instanceId: string): void {
    const set = this.byInstance.get(instanceId);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /** Wakes everyone (shutdown). */
  notifyAll(): void {
    for (const id of [...this.byInstance.keys()]) this.notify(id);
  }
}
