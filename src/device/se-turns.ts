// Whose turn it is on one SE, for a device app (issue 8): loads of one SE may run together, a
// settlement (renewal, unload, transfer) runs alone. A load the DCP issued before a renewal but
// installed after that renewal's COMPLETE SYNC is stale: the SE refuses issuances stamped no later
// than its last sync, and cannot refuse it with proof either (it no longer knows whether it installed
// it before), so its value would stay in the pool. A settlement therefore waits for the loads in
// flight, and a load waits for the settlement in flight.
export class SecureElementTurns {
  readonly #loads = new Map<string, Set<Promise<unknown>>>();
  readonly #settlements = new Map<string, Promise<unknown>>();

  /** Runs `run` as a load of `seId`: after any settlement in flight, beside other loads. */
  async load<T>(seId: string, run: () => Promise<T>): Promise<T> {
    // The last check and what follows it run in one turn of the event loop: no settlement starts between.
    for (let turn = this.#settlements.get(seId); turn !== undefined; turn = this.#settlements.get(seId))
      await turn.catch(() => undefined);
    const running = run();
    const loads = this.#loads.get(seId) ?? new Set<Promise<unknown>>();
    this.#loads.set(seId, loads.add(running));
    try {
      return await running;
    } finally {
      loads.delete(running);
      if (loads.size === 0) this.#loads.delete(seId);
    }
  }

  /** Runs `run` as the one settlement of `seId`, once the loads in flight are answered and installed. */
  async settlement<T>(seId: string, run: () => Promise<T>): Promise<T> {
    for (let turn = this.#settlements.get(seId); turn !== undefined; turn = this.#settlements.get(seId))
      await turn.catch(() => undefined);
    const loads = [...(this.#loads.get(seId) ?? [])];
    const turn = Promise.allSettled(loads).then(run);
    this.#settlements.set(seId, turn);
    try {
      return await turn;
    } finally {
      if (this.#settlements.get(seId) === turn) this.#settlements.delete(seId);
    }
  }
}
