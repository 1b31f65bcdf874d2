/**
 * Hands a socket's messages to graphql-ws in an order it copes with when a client reuses an
 * operation id it has just completed (the protocol allows it once the operation is complete).
 *
 * graphql-ws deletes an operation's id from its books when the operation's handler finally
 * returns, some time after the client's `complete`; a `subscribe` reusing that id in between
 * registers itself, then loses its entry to that late delete, and is dropped without a word. So a
 * `subscribe` for an id whose previous operation was completed but has not ended yet waits for it
 * to end, and every later message of that id waits its turn behind it. Anything else goes through
 * at once: graphql-ws itself closes the socket (4409) for an id reused while still running.
 */
export class MessageOrder {
  /** Per id: the handler of its `subscribe`, which graphql-ws keeps running until the operation ends. */
  private readonly running = new Map<string, Promise<void>>();
  /** Ids whose running operation the client has completed. */
  private readonly completed = new Set<string>();
  /** Per id: when its next message may be handed on. */
  private readonly waiting = new Map<string, Promise<void>>();

  /** `type`: the message's type as peeked here, when it has a string one. */
  constructor(private readonly handle: (text: string, type: string | undefined) => Promise<void>) {}

  receive(text: string): void {
    const { type, id } = peek(text);
    if (id === undefined) {
      void this.handle(text, type);
      return;
    }
    const after = this.waiting.get(id) ?? (type === 'subscribe' && this.completed.has(id) ? this.running.get(id) : undefined);
    if (!after) {
      this.dispatch(text, type, id);
      return;
    }
    const turn = after.then(() => this.dispatch(text, type, id));
    this.waiting.set(id, turn);
    void turn.then(() => {
      if (this.waiting.get(id) === turn) this.waiting.delete(id);
    });
  }

  private dispatch(text: string, type: string | undefined, id: string): void {
    if (type === 'complete' && this.running.has(id)) this.completed.add(id);
    const handled = this.handle(text, type);
    if (type !== 'subscribe') return;
    this.running.set(id, handled);
    this.completed.delete(id);
    void handled.then(() => {
      if (this.running.get(id) !== handled) return;
      this.running.delete(id);
      this.completed.delete(id);
    });
  }
}

/** The message's type and id, when it has them; graphql-ws validates the rest. */
function peek(text: string): { type?: string; id?: string } {
  try {
    const message: unknown = JSON.parse(text);
    if (!message || typeof message !== 'object') return {};
    const { type, id } = message as { type?: unknown; id?: unknown };
    return { type: typeof type === 'string' ? type : undefined, id: typeof id === 'string' ? id : undefined };
  } catch {
    return {};
  }
}
