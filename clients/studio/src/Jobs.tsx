/**
 * The project's generation jobs, the latest first, a page at a time, optionally of one status:
 * what ran, what failed and why (the error's code and message), and the running ones followed
 * live with their progress bar and a cancel button.
 */
import { useState } from 'react';
import { useQuery } from 'urql';
import { LISTS_JOBS } from './cache-hints';
import { ErrorView } from './ErrorView';
import { JobsDocument } from './generated/graphql';
import type { JobsQuery } from './generated/graphql';
import type { JobStatus } from './generated/schema-types';
import { isFinished, JobProgress } from './JobProgress';
import { MorePages, PagedList } from './pages';
import type { PageProps } from './pages';
import { Link, storyPath } from './router';

const STATUSES: JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

type JobRow = JobsQuery['jobs']['edges'][number]['node'];

export function Jobs() {
  const [status, setStatus] = useState<JobStatus | ''>('');
  return (
    <section className="jobs-view">
      <div className="heading">
        <h1>Jobs</h1>
        <label className="inline">
          Status{' '}
          <select name="jobStatus" value={status} onChange={(e) => setStatus(e.target.value as JobStatus | '')}>
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s.toLowerCase()}</option>)}
          </select>
        </label>
      </div>
      {/* Keyed: another status starts again from its first page. */}
      <PagedList key={status} className="job-list" page={(p) => <JobsPage {...p} status={status || null} />} />
    </section>
  );
}

function JobsPage({ after, status, last, onMore }: PageProps & { status: JobStatus | null }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: JobsDocument, variables: { after, status }, requestPolicy: 'cache-and-network', context: LISTS_JOBS,
  });
  const jobs = data?.jobs.edges.map((e) => e.node) ?? [];
  return (
    <>
      {error && <li><ErrorView error={error} /></li>}
      {after === null && !fetching && !error && jobs.length === 0 && <li className="empty">No jobs{status ? ` ${status.toLowerCase()}` : ''}.</li>}
      {/* A running job that ends moves to its final status here too. */}
      {jobs.map((job) => <JobItem key={job.id} job={job} onFinished={() => refetch({ requestPolicy: 'network-only' })} />)}
      {last && <MorePages pageInfo={data?.jobs.pageInfo} label="More jobs" onMore={onMore} />}
    </>
  );
}

function JobItem({ job, onFinished }: { job: JobRow; onFinished(): void }) {
  const what = job.kind === 'FRAME' && job.frame ? `frame ${job.frame.position} of` : job.kind === 'STORY' ? 'story' : 'character';
  return (
    <li className="card job-item" data-job-id={job.id} data-status={job.status}>
      <div className="job-item-head">
        <span className={`status status-${job.status.toLowerCase()}`}>{job.status.toLowerCase()}</span>
        <span>
          {what} {job.story ? <Link to={storyPath(job.story.id)} className="job-story">{job.story.title}</Link> : null}
        </span>
        <span className="meta">
          {new Date(job.createdAt).toLocaleString()}
          {job.finishedAt && ` · took ${((Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000).toFixed(1)} s`}
          {job.attempts > 1 && ` · ${job.attempts} attempts`}
        </span>
      </div>
      {isFinished(job)
        ? job.error && <p className="error"><code className="error-code">{job.error.code}</code> {job.error.message}</p>
        : <JobProgress initial={job} onFinished={onFinished} />}
    </li>
  );
}
