import type { ManagedApp } from './managed-app.js';

/** One consumer replica: its current process and name (a rename gives it a new app), and whether it was scaled away. */
export interface ConsumerSlot {
  app: ManagedApp;
  retired: boolean;
}

/**
 * The stream-consumer replicas. Names are `consumer-<n>`, never reused, so a restart "under a new name" is a name the
 * group has not seen. The first slot is the one that is always there; replicas are added and retired around it.
 */
export class Fleet {
  readonly #make: (name: string) => ManagedApp;
  readonly #slots: ConsumerSlot[] = [];
  #named = 0;

  constructor(make: (name: string) => ManagedApp) {
    this.#make = make;
  }

  /** Starts one more replica under a fresh name. */
  add(): ConsumerSlot {
    const slot = { app: this.#make(`consumer-${++this.#named}`), retired: false };
    slot.app.start();
    this.#slots.push(slot);
    return slot;
  }

  /** Replicas not scaled away (running or down for a restart). */
  active(): ConsumerSlot[] {
    return this.#slots.filter((slot) => !slot.retired);
  }

  /** The active replica that `pick` (a number in [0, 1)) lands on among those running, if any is running. */
  pick(pick: number): ConsumerSlot | undefined {
    const running = this.active().filter((slot) => slot.app.running);
    return running[Math.floor(pick * running.length)];
  }

  /** Starts the slot again under its name, unless it was retired meanwhile. */
  restart(slot: ConsumerSlot): void {
    if (!slot.retired) slot.app.start();
  }

  /** Starts the slot again under a fresh name (the old name's pending entries are left for idle claims). */
  rename(slot: ConsumerSlot): string | undefined {
    if (slot.retired) return undefined;
    slot.app = this.#make(`consumer-${++this.#named}`);
    slot.app.start();
    return slot.app.label;
  }

  /** Scales a replica away with SIGTERM (waiting for any stop already under way). */
  async retire(slot: ConsumerSlot): Promise<void> {
    slot.retired = true;
    await slot.app.stop('SIGTERM');
  }

  /** Makes sure at least one replica runs (after the faults, before the drain). */
  ensureOne(): void {
    if (this.active().some((slot) => slot.app.running)) return;
    const slot = this.active()[0];
    if (slot) slot.app.start();
    else this.add();
  }

  /** Stops every replica with SIGTERM. */
  async stopAll(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.app.stop('SIGTERM')));
  }
}
