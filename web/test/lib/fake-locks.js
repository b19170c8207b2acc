// A stand-in for navigator.locks (Web Locks API), exclusive mode only: what
// storage.js uses. request(name, {ifAvailable} | {signal}, cb): cb(lock or
// null); the lock is held until the promise cb returns settles. One
// FakeLocks is one browser (shared by its tabs); kill(name) drops a lock as
// the browser does when the holding page dies.

export class FakeLocks {
  constructor() {
    this.holders = new Map(); // name -> release()
    this.queues = new Map(); // name -> [grant()]
    this.requests = [];
  }

  isHeld(name) {
    return this.holders.has(name);
  }

  async request(name, opts, cb) {
    this.requests.push({ name, opts });
    if (this.holders.has(name)) {
      if (opts.ifAvailable) return cb(null);
      await new Promise((grant, reject) => {
        const q = this.queues.get(name) ?? [];
        this.queues.set(name, q);
        q.push(grant);
        opts.signal?.addEventListener('abort', () => {
          const i = q.indexOf(grant);
          if (i >= 0) q.splice(i, 1);
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
    }
    let dead;
    const killed = new Promise((r) => { dead = r; });
    this.holders.set(name, dead);
    try {
      return await Promise.race([cb({ name, mode: 'exclusive' }), killed]);
    } finally {
      this.holders.delete(name);
      this.queues.get(name)?.shift()?.();
    }
  }

  // The holding page died (closed, crashed): the browser frees its locks.
  kill(name) {
    this.holders.get(name)?.();
  }

  killAll() {
    for (const name of [...this.holders.keys()]) this.kill(name);
  }
}
