/**
 * A set of version ids (non-negative safe integers) in one typed array with open addressing,
 * at most half full: 4 bytes a slot while every id fits in 32 bits (the usual case), 8 once one
 * does not. A Set of numbers costs 2.5 times that (20 MB against 8 MB at a million ids, `npm run
 * bench -- --only ids`) and is traced by the collector. A scan of a million versions holds two
 * by its end; with Set instead, the report command's peak RSS misses its 200 MB target (README,
 * Performance › Memory).
 */

/** Markers of free and deleted slots: a narrow table cannot hold ids from 0xfffffffe on. */
export const NARROW = { empty: 0xffff_ffff, deleted: 0xffff_fffe } as const;
const WIDE = { empty: -1, deleted: -2 } as const;

/** Slots of a new set; a power of two, as every size after it. */
export const INITIAL_SLOTS = 1024;

/**
 * The slot an id tries first in a table of `slots` (a power of two): Fibonacci hashing of its
 * two 32-bit halves.
 */
export function homeSlot(id: number, slots: number): number {
  const h = Math.imul((id % 4294967296) ^ Math.floor(id / 4294967296), 0x9e3779b1) >>> 0;
  return h & (slots - 1);
}

export class IdSet {
  #slots: Uint32Array | Float64Array = new Uint32Array(INITIAL_SLOTS).fill(NARROW.empty);
  #empty: number = NARROW.empty;
  #deleted: number = NARROW.deleted;
  #size = 0;
  /** Occupied or deleted slots: what the load factor counts. */
  #used = 0;

  get size(): number {
    return this.#size;
  }

  /** Whether a narrow table cannot hold `id`: its own markers are ids from 0xfffffffe on. */
  #beyondNarrow(id: number): boolean {
    return id >= NARROW.deleted && this.#slots instanceof Uint32Array;
  }

  /** The slot holding `id`, or -1. */
  #slotOf(id: number): number {
    if (this.#beyondNarrow(id)) return -1;
    const slots = this.#slots;
    const mask = slots.length - 1;
    const empty = this.#empty;
    for (let i = homeSlot(id, slots.length); ; i = (i + 1) & mask) {
      const s = slots[i] as number;
      if (s === empty) return -1;
      if (s === id) return i;
    }
  }

  /** Whether `id` is in the set. */
  has(id: number): boolean {
    return this.#slotOf(id) !== -1;
  }

  /** Adds `id`; false when it was there already. */
  add(id: number): boolean {
    if (this.#beyondNarrow(id)) this.#rehash(true);
    else if ((this.#used + 1) * 2 > this.#slots.length) this.#rehash(false);
    const slots = this.#slots;
    const mask = slots.length - 1;
    const empty = this.#empty;
    let free = -1;
    for (let i = homeSlot(id, slots.length); ; i = (i + 1) & mask) {
      const s = slots[i] as number;
      if (s === id) return false;
      if (s === this.#deleted && free === -1) free = i;
      if (s === empty) {
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
    const i = this.#slotOf(id);
    if (i === -1) return false;
    this.#slots[i] = this.#deleted;
    this.#size--;
    return true;
  }

  /** A fresh table, twice as large when it holds many ids, wide when `widen`. */
  #rehash(widen: boolean): void {
    const old = this.#slots;
    const [oldEmpty, oldDeleted] = [this.#empty, this.#deleted];
    // Grow when it holds many ids; otherwise the tombstones are what filled it.
    const capacity = (this.#size + 1) * 4 > old.length ? old.length * 2 : old.length;
    if (widen || old instanceof Float64Array) {
      this.#slots = new Float64Array(capacity).fill(WIDE.empty);
      [this.#empty, this.#deleted] = [WIDE.empty, WIDE.deleted];
    } else {
      this.#slots = new Uint32Array(capacity).fill(NARROW.empty);
    }
    this.#size = 0;
    this.#used = 0;
    for (const s of old) if (s !== oldEmpty && s !== oldDeleted) this.add(s);
  }
}
