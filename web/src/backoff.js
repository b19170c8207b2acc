// Reconnect delays: exponential with "full jitter" (a random point in
// [0, cap]), so a server restart does not get every tab back in the same
// millisecond. Pure; `random` is injectable for tests.

export function createBackoff({ base = 500, max = 30000, random = Math.random } = {}) {
  let attempt = 0;
  return {
    next() {
      const cap = Math.min(max, base * 2 ** attempt);
      attempt = Math.min(attempt + 1, 30);
      // Never 0: a floor keeps a flapping server from a tight loop.
      return Math.max(base / 2, Math.round(random() * cap));
    },
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}
