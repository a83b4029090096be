import type { getOctokit } from '@actions/github';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface Repository {
  owner: string;
  repo: string;
}

/** One failure issue exists per (workflow, backup name): the key is a hidden marker in its body. */
export interface IssueKey {
  workflow: string;
  name: string;
  label: string;
  /** Defaults to "Backstop: <workflow> is failing for <name>". */
  title?: string;
}

export type IssueAction = 'opened' | 'commented' | 'closed' | 'none';

export interface IssueOutcome {
  action: IssueAction;
  number?: number;
  url?: string;
}

export function issueMarker(key: IssueKey): string {
  return `<!-- backstop-report ${JSON.stringify({ workflow: key.workflow, name: key.name })} -->`;
}

export function issueTitle(key: IssueKey): string {
  return key.title ?? `Backstop: ${key.workflow} is failing for ${key.name}`;
}

/**
 * The open issue of this key, found by label and marker (not by title: a person may retitle it). Lists rather than
 * searches: the search index lags by minutes, and a repeat failure must find the issue the last run opened.
 */
export async function findOpenIssue(
  github: GitHubClient,
  repository: Repository,
  key: IssueKey,
): Promise<{ number: number; url: string } | undefined> {
  const marker = issueMarker(key);
  const issues = await github.paginate(github.rest.issues.listForRepo, {
    ...repository,
    state: 'open',
    labels: key.label,
    per_page: 100,
  });
  const found = issues.find((issue) => !issue.pull_request && (issue.body ?? '').includes(marker));
  return found ? { number: found.number, url: found.html_url } : undefined;
}

/** A failure: opens the key's issue, or comments on it when the last run already opened it. */
export async function reportFailure(
  github: GitHubClient,
  repository: Repository,
  key: IssueKey,
  body: string,
): Promise<IssueOutcome> {
  const open = await findOpenIssue(github, repository, key);
  if (open) {
    await github.rest.issues.createComment({ ...repository, issue_number: open.number, body });
    return { action: 'commented', ...open };
  }
  const created = await github.rest.issues.create({
    ...repository,
    title: issueTitle(key),
    body: `${issueMarker(key)}\n${body}`,
    labels: [key.label],
  });
  return { action: 'opened', number: created.data.number, url: created.data.html_url };
}

/** A success: closes the key's open issue with a comment saying which run recovered; nothing when none is open. */
export async function reportRecovery(
  github: GitHubClient,
  repository: Repository,
  key: IssueKey,
  comment: string,
): Promise<IssueOutcome> {
  const open = await findOpenIssue(github, repository, key);
  if (!open) return { action: 'none' };
  await github.rest.issues.createComment({ ...repository, issue_number: open.number, body: comment });
  await github.rest.issues.update({
    ...repository,
    issue_number: open.number,
    state: 'closed',
    state_reason: 'completed',
  });
  return { action: 'closed', ...open };
}

/** GitHub's answer when the workflow token lacks a permission (`permissions:` of the job). */
export function isPermissionDenied(error: unknown): boolean {
  const status = statusOf(error);
  return status === 403 || status === 404;
}

export function isBadCredentials(error: unknown): boolean {
  return statusOf(error) === 401;
}

function statusOf(error: unknown): unknown {
  return (error as { status?: unknown } | null)?.status;
}
