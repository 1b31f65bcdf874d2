/**
 * Waits until `check` holds, looking again every few milliseconds: for state the server settles
 * asynchronously (a socket's clean-up). There is no deadline of its own; the test's timeout is it.
 */
export async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}
