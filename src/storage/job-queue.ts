// A bounded first-in first-out queue with O(1) push, peek and shift: the SQLite adapter's waiting
// jobs (one connection per database, so statements and transactions take turns through it).
export class JobQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(private readonly lengthMax: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends `item`; false (and nothing appended) when `lengthMax` items already wait. */
  push(item: T): boolean {
    if (this.length >= this.lengthMax) return false;
    this.items.push(item);
    return true;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
