/** Which requests an injected failure is for; absent fields match anything. */
export interface FailureMatch {
  method?: string;
  /** The request's path, exactly (no query). */
  path?: string;
}

/** A failure the integration fakes answer with instead of doing what was asked. */
export interface QueuedFailure {
  status: number;
  body: unknown;
  when?: FailureMatch;
}

export function matchesRequest(when: FailureMatch | undefined, method: string, path: string): boolean {
  return (
    (when?.method === undefined || when.method === method) && (when?.path === undefined || when.path === path)
  );
}

/** Removes and returns the first queued failure meant for this request, if any. */
export function takeFailure(queue: QueuedFailure[], method: string, path: string): QueuedFailure | undefined {
  const index = queue.findIndex(({ when }) => matchesRequest(when, method, path));
  return index === -1 ? undefined : queue.splice(index, 1)[0];
}
