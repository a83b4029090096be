import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubStandin, type GitHubStandin, type GitHubStandinOptions } from '../harness/github-standin.ts';

type ActionsGitHub = typeof import('@actions/github');
type Octokit = ReturnType<ActionsGitHub['getOctokit']>;

const LABEL = 'backstop-report';
const OPEN_LABELLED = 230; // three pages of 100
const PUSHED_AT = '2025-11-02T08:15:00Z';

let getOctokit: ActionsGitHub['getOctokit'];
/** The stand-in GITHUB_API_URL points at when @actions/github is first imported (it reads the variable only then). */
let main: GitHubStandin;
const savedApiUrl = process.env.GITHUB_API_URL;

beforeAll(async () => {
  main = await startGitHubStandin({
    pushedAt: PUSHED_AT,
    workflows: [
      { id: 501, name: 'Backup', path: '.github/workflows/backup.yml' },
      { id: 502, name: 'Restore drill', path: '.github/workflows/restore-drill.yml', state: 'disabled_inactivity' },
    ],
  });
  process.env.GITHUB_API_URL = main.url;
  ({ getOctokit } = await import('@actions/github'));
});

afterAll(async () => {
  if (savedApiUrl === undefined) delete process.env.GITHUB_API_URL;
  else process.env.GITHUB_API_URL = savedApiUrl;
  await main.close();
});

const extra: GitHubStandin[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((standin) => standin.close()));
});

async function start(options: GitHubStandinOptions): Promise<GitHubStandin> {
  const standin = await startGitHubStandin(options);
  extra.push(standin);
  return standin;
}

/**
 * An Octokit for a stand-in other than `main`: the base URL has to be passed, the environment was read already. It
 * keeps the fetch @actions/github chose at import for `main`'s loopback URL, which never goes through a proxy (with
 * HTTPS_PROXY set and GITHUB_API_URL unset at import, a `baseUrl` alone would still be sent through the proxy).
 */
function octokitFor(standin: GitHubStandin, token = standin.token): Octokit {
  return getOctokit(token, { baseUrl: standin.url });
}

describe('GitHub stand-in, driven by @actions/github', () => {
  it('is reached through GITHUB_API_URL and reports pushed_at', async () => {
    const octokit = getOctokit(main.token);
    // Guard against the module having been loaded before the variable was set: that would mean api.github.com.
    expect(octokit.request.endpoint.DEFAULTS.baseUrl).toBe(main.url);
    const { data, status } = await octokit.rest.repos.get({ owner: main.repo.owner, repo: main.repo.name });
    expect(status).toBe(200);
    expect(data).toMatchObject({
      full_name: `${main.repo.owner}/${main.repo.name}`,
      pushed_at: PUSHED_AT,
      private: true,
    });
    const request = main.requests.at(-1)!;
    expect(request).toMatchObject({ method: 'GET', path: `/repos/${main.repo.owner}/${main.repo.name}`, status: 200 });
    expect(request.headers.authorization).toBe(`token ${main.token}`);
  });

  it('pages open labelled issues with Link headers that octokit.paginate follows', async () => {
    const standin = await start({});
    for (let index = 0; index < OPEN_LABELLED; index++)
      standin.seedIssue({ title: `report ${index}`, labels: [LABEL] });
    standin.seedIssue({ title: 'old report', labels: [LABEL], state: 'closed' });
    standin.seedIssue({ title: 'unrelated', labels: ['bug'] });
    standin.seedIssue({ title: 'a pull request', labels: [LABEL], pullRequest: true });
    const octokit = octokitFor(standin);
    const params = {
      owner: standin.repo.owner,
      repo: standin.repo.name,
      state: 'open',
      labels: LABEL,
      per_page: 100,
    } as const;

    const issues = await octokit.paginate(octokit.rest.issues.listForRepo, params);
    expect(issues).toHaveLength(OPEN_LABELLED + 1);
    expect(issues.filter((issue) => issue.pull_request)).toHaveLength(1);
    expect(new Set(issues.map((issue) => issue.number)).size).toBe(issues.length);
    expect(
      issues.every(
        (issue) =>
          issue.state === 'open' && issue.labels.some((label) => typeof label !== 'string' && label.name === LABEL),
      ),
    ).toBe(true);
    // Newest first, as GitHub sorts by default.
    expect(issues[0]!.number).toBeGreaterThan(issues[1]!.number);
    const pages = standin.requests.filter((request) => request.method === 'GET');
    expect(pages.map((request) => request.query.page ?? '1')).toEqual(['1', '2', '3']);
    // The follow-up pages come from the Link header, which names the repository by id as GitHub's does.
    expect(pages[1]!.path).toBe(`/repositories/${standin.repo.id}/issues`);

    const middle = await octokit.rest.issues.listForRepo({ ...params, page: 2 });
    expect(middle.data).toHaveLength(100);
    const links = Object.fromEntries(
      middle.headers.link!.split(', ').map((part) => {
        const [, url, rel] = /^<([^>]+)>; rel="(\w+)"$/.exec(part)!;
        return [rel!, new URL(url!).searchParams.get('page')];
      }),
    );
    expect(links).toEqual({ prev: '1', next: '3', last: '3', first: '1' });

    const single = await octokit.rest.issues.listForRepo({ ...params, labels: 'bug' });
    expect(single.data.map((issue) => issue.title)).toEqual(['unrelated']);
    expect(single.headers.link).toBeUndefined();
  });

  it('creates an issue with labels, comments on it and closes it', async () => {
    const standin = await start({ labels: [{ name: LABEL, color: 'b60205', description: 'Backstop reports' }] });
    const octokit = octokitFor(standin);
    const repo = { owner: standin.repo.owner, repo: standin.repo.name };

    const created = await octokit.rest.issues.create({
      ...repo,
      title: 'Backups are stale',
      body: 'No dump for 3 days.',
      labels: [LABEL, 'stale'],
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      number: 1,
      state: 'open',
      title: 'Backups are stale',
      user: { login: 'github-actions[bot]', type: 'Bot' },
    });
    expect(created.data.labels).toEqual([
      expect.objectContaining({ name: LABEL, color: 'b60205', description: 'Backstop reports', default: false }),
      // Unknown label names are created on the fly.
      expect.objectContaining({ name: 'stale', color: 'ededed', description: null }),
    ]);
    expect(created.headers.location).toBe(`${standin.url}/repos/${repo.owner}/${repo.repo}/issues/1`);

    const comment = await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'Still stale.' });
    expect(comment.status).toBe(201);
    expect(comment.data).toMatchObject({
      body: 'Still stale.',
      issue_url: created.data.url,
      user: { login: 'github-actions[bot]' },
    });

    const closed = await octokit.rest.issues.update({
      ...repo,
      issue_number: 1,
      state: 'closed',
      state_reason: 'completed',
    });
    expect(closed.status).toBe(200);
    expect(closed.data).toMatchObject({
      state: 'closed',
      state_reason: 'completed',
      comments: 1,
      closed_by: { login: 'github-actions[bot]' },
    });
    expect(closed.data.closed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    expect(standin.issue(1)).toMatchObject({
      state: 'closed',
      stateReason: 'completed',
      labels: [LABEL, 'stale'],
      comments: [{ body: 'Still stale.' }],
    });
    expect(standin.labels.map((label) => label.name)).toEqual([LABEL, 'stale']);
    expect(standin.requests.map((request) => `${request.method} ${request.status}`)).toEqual([
      'POST 201',
      'POST 201',
      'PATCH 200',
    ]);
    expect(standin.requests[0]!.body).toEqual({
      title: 'Backups are stale',
      body: 'No dump for 3 days.',
      labels: [LABEL, 'stale'],
    });

    const open = await octokit.rest.issues.listForRepo({ ...repo, state: 'open', labels: LABEL });
    expect(open.data).toEqual([]);
    await expect(octokit.rest.issues.createComment({ ...repo, issue_number: 9, body: 'x' })).rejects.toMatchObject({
      name: 'HttpError',
      status: 404,
    });
    await expect(
      octokit.rest.issues.create({ ...repo, title: 'too long', body: 'x'.repeat(65_537) }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it('answers a wrong token with 401 Bad credentials', async () => {
    const octokit = octokitFor(main, 'ghs_not-the-token');
    const failure = octokit.rest.repos.get({ owner: main.repo.owner, repo: main.repo.name });
    await expect(failure).rejects.toMatchObject({
      name: 'HttpError',
      status: 401,
      message: 'Bad credentials - https://docs.github.com/rest',
      response: {
        data: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
      },
    });
  });

  it('takes Bearer tokens and wants one', async () => {
    const url = `${main.url}/repos/${main.repo.owner}/${main.repo.name}`;
    expect((await fetch(url, { headers: { authorization: `Bearer ${main.token}` } })).status).toBe(200);
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ message: 'Requires authentication' });
  });

  it('refuses to create issues with issues: read, as GitHub refuses a GITHUB_TOKEN', async () => {
    const standin = await start({ permissions: { issues: 'read' } });
    standin.seedIssue({ title: 'seeded', labels: [LABEL] });
    const octokit = octokitFor(standin);
    const repo = { owner: standin.repo.owner, repo: standin.repo.name };
    expect((await octokit.rest.issues.listForRepo({ ...repo, labels: LABEL })).data).toHaveLength(1);
    await expect(octokit.rest.issues.create({ ...repo, title: 'nope' })).rejects.toMatchObject({
      status: 403,
      message: 'Resource not accessible by integration - https://docs.github.com/rest/issues/issues#create-an-issue',
    });
    await expect(octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'nope' })).rejects.toMatchObject({
      status: 403,
    });
    expect(standin.issues).toHaveLength(1);

    standin.permissions.issues = 'none';
    await expect(octokit.rest.issues.listForRepo(repo)).rejects.toMatchObject({ status: 403 });
  });

  it('lists workflows and enables them by id or file name, with actions: write only', async () => {
    const octokit = getOctokit(main.token);
    const repo = { owner: main.repo.owner, repo: main.repo.name };
    const listed = await octokit.rest.actions.listRepoWorkflows(repo);
    expect(listed.data.total_count).toBe(2);
    expect(listed.data.workflows.map(({ id, path, state }) => ({ id, path, state }))).toEqual([
      { id: 501, path: '.github/workflows/backup.yml', state: 'active' },
      { id: 502, path: '.github/workflows/restore-drill.yml', state: 'disabled_inactivity' },
    ]);

    // As the report action lists them: paginate unwraps `workflows` from the { total_count, workflows } body.
    const paginated = await octokit.paginate(octokit.rest.actions.listRepoWorkflows, { ...repo, per_page: 1 });
    expect(paginated.map((workflow) => workflow.id)).toEqual([501, 502]);

    const enabled = await octokit.rest.actions.enableWorkflow({ ...repo, workflow_id: 'restore-drill.yml' });
    expect(enabled.status).toBe(204);
    expect(main.workflows[1]!.state).toBe('active');
    main.workflows[1]!.state = 'disabled_manually';
    expect((await octokit.rest.actions.enableWorkflow({ ...repo, workflow_id: 502 })).status).toBe(204);
    expect(main.workflows[1]!.state).toBe('active');
    await expect(octokit.rest.actions.enableWorkflow({ ...repo, workflow_id: 'missing.yml' })).rejects.toMatchObject({
      status: 404,
    });

    const readOnly = await start({
      permissions: { actions: 'read' },
      workflows: [{ name: 'Backup', path: '.github/workflows/backup.yml', state: 'disabled_inactivity' }],
    });
    const limited = octokitFor(readOnly);
    const readOnlyRepo = { owner: readOnly.repo.owner, repo: readOnly.repo.name };
    expect((await limited.rest.actions.listRepoWorkflows(readOnlyRepo)).data.workflows).toHaveLength(1);
    await expect(
      limited.rest.actions.enableWorkflow({ ...readOnlyRepo, workflow_id: 'backup.yml' }),
    ).rejects.toMatchObject({
      status: 403,
      message:
        'Resource not accessible by integration - https://docs.github.com/rest/actions/workflows#enable-a-workflow',
    });
    expect(readOnly.workflows[0]!.state).toBe('disabled_inactivity');
    readOnly.permissions.actions = 'none';
    await expect(limited.rest.actions.listRepoWorkflows(readOnlyRepo)).rejects.toMatchObject({ status: 403 });
  });

  it('fails the next matching request on demand', async () => {
    const standin = await start({ issues: [{ title: 'one' }] });
    const octokit = octokitFor(standin);
    const repo = { owner: standin.repo.owner, repo: standin.repo.name };
    standin.failNext('GET', /\/issues$/, 502);
    await expect(octokit.paginate(octokit.rest.issues.listForRepo, repo)).rejects.toMatchObject({ status: 502 });
    expect(await octokit.paginate(octokit.rest.issues.listForRepo, repo)).toHaveLength(1);
    expect(standin.requests.map((request) => request.status)).toEqual([502, 200]);
  });
});
