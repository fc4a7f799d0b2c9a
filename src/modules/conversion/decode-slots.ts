/**
 * Decode slots shared fairly between users: at most `slots` decodes at once in one API process, and at
 * most `perUser` of them for one user; a freed slot goes to the waiting user who started a decode
 * least recently (round robin between users, first come first served within one user). Without the per-user share, six
 * uploads of one user that each decode for seconds before being refused held both slots and pushed
 * another user's normal upload from 0.3 s to 20 s (issue 10, hole 6).
 */
export class DecodeSlots {
  private active = 0;
  private readonly activeByUser = new Map<string, number>();
  /** Users with waiting work, in arrival order; each with its waiters in arrival order. */
  private readonly queues = new Map<string, (() => void)[]>();
  /** When each user (with work running or waiting) last started a decode: who waited longest since goes first. */
  private readonly lastStart = new Map<string, number>();
  private starts = 0;

  /**
   * @param slots decodes at once (≥ 1).
   * @param perUser decodes at once for one user (1..slots).
   */
  constructor(
    private readonly slots: number,
    private readonly perUser: number,
  ) {}

  /** Runs `work` for `userId` when a slot is free for them. */
  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    if (!this.canStart(userId) || this.queues.size > 0) {
      await new Promise<void>((resolve) => {
        const queue = this.queues.get(userId) ?? [];
        queue.push(resolve);
        this.queues.set(userId, queue);
        this.dispatch();
      });
    } else {
      this.take(userId);
    }
    try {
      return await work();
    } finally {
      const held = (this.activeByUser.get(userId) ?? 1) - 1;
      if (held === 0) this.activeByUser.delete(userId);
      else this.activeByUser.set(userId, held);
      if (held === 0 && !this.queues.has(userId)) this.lastStart.delete(userId);
      this.active -= 1;
      this.dispatch();
    }
  }

  /** Decodes running now, and users waiting (for tests and metrics). */
  get load(): { active: number; waitingUsers: number } {
    return { active: this.active, waitingUsers: this.queues.size };
  }

  private canStart(userId: string): boolean {
    return this.active < this.slots && (this.activeByUser.get(userId) ?? 0) < this.perUser;
  }

  private take(userId: string): void {
    this.lastStart.set(userId, ++this.starts);
    this.active += 1;
    this.activeByUser.set(userId, (this.activeByUser.get(userId) ?? 0) + 1);
  }

  /**
   * Starts waiting work while slots are free, one decode at a time for the waiting user who can start
   * and started least recently (never before: first, in arrival order).
   */
  private dispatch(): void {
    while (this.active < this.slots) {
      let next: string | null = null;
      for (const userId of this.queues.keys()) {
        if (!this.canStart(userId)) continue;
        if (next === null || (this.lastStart.get(userId) ?? 0) < (this.lastStart.get(next) ?? 0)) next = userId;
      }
      if (next === null) return;
      const queue = this.queues.get(next)!;
      const resolve = queue.shift()!;
      if (queue.length === 0) this.queues.delete(next);
      this.take(next);
      resolve();
    }
  }
}
