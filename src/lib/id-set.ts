/**
 * A set of version ids (non-negative safe integers) in one Float64Array with open addressing:
 * 8 bytes a slot at most half full, where a Set of numbers costs several times that and is
 * traced by the collector. A scan of a million versions keeps one.
 */

const EMPTY = -1;
const DELETED = -2;

export class IdSet {
  #slots = new Float64Array(1024).fill(EMPTY);
  #size = 0;
  /** Occupied or deleted slots: what the load factor counts. */
  #used = 0;

  get size(): number {
    return this.#size;
  }

  #index(id: number): number {
    // Fibonacci hashing of the two 32-bit halves; the table size is a power of two.
    const mask = this.#slots.length - 1;
    const h = Math.imul((id % 4294967296) ^ Math.floor(id / 4294967296), 0x9e3779b1) >>> 0;
    return h & mask;
  }

  /** Whether `id` is in the set. */
  has(id: number): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = this.#index(id); ; i = (i + 1) & mask) {
      const s = slots[i] as number;
      if (s === EMPTY) return false;
      if (s === id) return true;
    }
  }

  /** Adds `id`; false when it was there already. */
  add(id: number): boolean {
    if ((this.#used + 1) * 2 > this.#slots.length) this.#rehash();
    const slots = this.#slots;
    const mask = slots.length - 1;
    let free = -1;
    for (let i = this.#index(id); ; i = (i + 1) & mask) {
      const s = slots[i] as number;
      if (s === id) return false;
      if (s === DELETED && free === -1) free = i;
      if (s === EMPTY) {
        if (free === -1) {
          free = i;
          this.#used++;
        }
        slots[free] = id;
        this.#size++;
        return true;
      }
    }
  }

  /** Removes `id`; false when it was not there. */
  delete(id: number): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = this.#index(id); ; i = (i + 1) & mask) {
      const s = slots[i] as number;
      if (s === EMPTY) return false;
      if (s === id) {
        slots[i] = DELETED;
        this.#size--;
        return true;
      }
    }
  }

  #rehash(): void {
    const old = this.#slots;
    // Grow when it holds many ids; otherwise the tombstones are what filled it.
    const capacity = this.#size * 4 > old.length ? old.length * 2 : old.length;
    this.#slots = new Float64Array(capacity).fill(EMPTY);
    this.#size = 0;
    this.#used = 0;
    for (const s of old) if (s >= 0) this.add(s);
  }
}
