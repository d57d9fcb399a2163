import { TtlLru } from "./ttl-lru.js";

/** A token bucket: `capacity` tokens, refilled evenly over `periodMs`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.updatedAt) * this.capacity) / this.periodMs,
    );
    this.updatedAt = now;
  }

  available(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  take(): void {
    this.refill();
    this.tokens -= 1;
  }

  /** Milliseconds until one token is back. */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * this.periodMs) / this.capacity);
  }
}

/** One bucket per key; idle buckets are forgotten (a forgotten bucket is a full one). */
export class KeyedRateLimiter {
  private readonly buckets: TtlLru<TokenBucket>;

  constructor(
    private readonly capacity: number,
    private readonly periodMs: number,
    maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new TtlLru(maxKeys, periodMs, now);
  }

  bucket(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.capacity, this.periodMs, this.now);
    }
    // Written on every use so that a busy key is neither expired nor evicted.
    this.buckets.set(key, bucket);
    return bucket;
  }
}
