/**
 * One generation job, followed live over graphql-ws (`jobUpdated`): the phase's label, a bar of
 * the whole job's fraction (the API only ever raises it, even across retries), and cancel while
 * it runs. The subscription completes by itself once the job has finished.
 */
import { useEffect } from 'react';
import { useMutation, useSubscription } from 'urql';
import { ErrorView } from './ErrorView';
import { CancelJobDocument, JobUpdatedDocument } from './generated/graphql';
import type { JobStateFragment } from './generated/graphql';

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export const isFinished = (job: Pick<JobStateFragment, 'status'>) => FINISHED.has(job.status);

interface Props {
  initial: JobStateFragment;
  /** Once, when the job is seen finished. */
  onFinished(job: JobStateFragment): void;
  /** Offered once the job has finished, when given. */
  onDismiss?(): void;
}

export function JobProgress({ initial, onFinished, onDismiss }: Props) {
  const [{ data, error }] = useSubscription({ query: JobUpdatedDocument, variables: { jobId: initial.id } });
  const [cancelled, cancel] = useMutation(CancelJobDocument);
  // The cancellation itself arrives through the subscription, like every other change.
  const job = data?.jobUpdated ?? initial;
  const finished = isFinished(job);
  const { phase, fraction, label } = job.progress;
  // Floor: "100%" only once the API says the job is whole.
  const percent = Math.floor(fraction * 100);

  useEffect(() => {
    if (finished) onFinished(job);
    // Once per finish, not on every later render of the finished job.
  }, [finished]);

  const title = job.kind === 'FRAME' && job.frame ? `Frame ${job.frame.position}` : job.kind === 'STORY' ? 'Story' : 'Character';

  return (
    <div className={`job job-${job.status.toLowerCase()}`} data-job-id={job.id} data-status={job.status} data-phase={phase}
      data-fraction={fraction}>
      <div className="job-head">
        <strong>{title}</strong>
        <span className="job-label">{label}</span>
        <span className="job-percent">{percent}%</span>
        {finished
          ? onDismiss && <button type="button" className="link" onClick={onDismiss}>Dismiss</button>
          : <button type="button" className="danger" disabled={cancelled.fetching} onClick={() => cancel({ id: job.id })}>Cancel</button>}
      </div>
      <progress className="job-bar" max={100} value={percent} aria-label={`${title}: ${label}`} />
      {job.error && (
        <p className="error"><code className="error-code">{job.error.code}</code> {job.error.message}</p>
      )}
      <ErrorView error={error ?? cancelled.error} />
    </div>
  );
}
