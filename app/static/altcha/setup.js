// The widget (altcha/external, no inline styles or workers, so it runs under our strict
// Content-Security-Policy) solves SHA-256 challenges in a worker served from here.
globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(new URL("sha.js", import.meta.url)));
