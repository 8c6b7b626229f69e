/**
 * The stale-reply guard every fetch in the renderer goes through. A fetch takes a ticket for its
 * slot (what it fills: the table, the schema, the key history shown…); when its reply arrives it
 * is applied only if the ticket is still the newest of that slot, so a slow reply for a previous
 * table, version, key or pipeline never overwrites the answer for the current one.
 */
export type Ticket = () => boolean;

/** A ticket counter per slot; `take(slot)` returns the ticket's "still newest?" check. */
export function createTickets(): (slot: string) => Ticket {
  const newest = new Map<string, number>();
  return (slot) => {
    const mine = (newest.get(slot) ?? 0) + 1;
    newest.set(slot, mine);
    return () => newest.get(slot) === mine;
  };
}

/** The store's tickets: one counter per slot for the whole app. */
export const takeTicket = createTickets();
