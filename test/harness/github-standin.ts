/**
 * A stand-in for the parts of the GitHub REST API that Backstop's `report` action calls, so its tests run without
 * network access: one repository, its issues (with labels and comments) and its Actions workflows.
 *
 * It answers the way api.github.com answers a GITHUB_TOKEN: `Authorization: token <t>` or `Bearer <t>`, per-token
 * permissions for `issues` and `actions` (a missing permission is 403 "Resource not accessible by integration"),
 * GitHub's error bodies, and `Link` headers for pagination that point at `/repositories/{id}/...` as GitHub's do,
 * so a client has to follow the links rather than rebuild URLs.
 *
 * The contract check is the type checker: every JSON body sent is built as the response type of its operation in
 * GitHub's own OpenAPI description (`@octokit/openapi-types`), so `tsc` fails when a response lacks a property
 * GitHub documents as required, or gives it the wrong type.
 *
 * Pointing @actions/github at it: `getOctokit(token)` takes its base URL from GITHUB_API_URL as it was when
 * @actions/github was first imported in the process (read once, at module load), so set the variable before that
 * import (or start the stand-in with a known `port`), or pass `getOctokit(token, { baseUrl: standin.url })`.
 *
 * Not emulated: other repositories, users' own permissions (the token acts as github-actions[bot]), rate limiting
 * (see `failNext` to inject a 403/429), conditional requests, and pull requests beyond a `pull_request` marker on
 * issues seeded with `pullRequest: true` (the issues endpoint lists pull requests too, as GitHub's does).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { components, operations } from '@octokit/openapi-types';

// ---------------------------------------------------------------------------------------------------------------
// Types from GitHub's OpenAPI description

type Schemas = components['schemas'];
type ContentOf<R> = R extends { content: { 'application/json': infer Body } } ? Body : never;
type Operation = keyof operations;
/** The statuses an operation documents, and the JSON body it documents for one of them. */
type DocumentedStatus<Op extends Operation> = Extract<keyof operations[Op]['responses'], number>;
type ResponseBody<Op extends Operation, Status extends DocumentedStatus<Op>> = ContentOf<
  operations[Op]['responses'][Status]
>;
type BasicError = Schemas['basic-error'];
/** GitHub adds `status` to every error body, though its description lists it for basic-error only. */
type ValidationError = Schemas['validation-error'] & { status: string };

export type Permission = 'write' | 'read' | 'none';
export type WorkflowState = Schemas['workflow']['state'];
export type StateReason = NonNullable<Schemas['issue']['state_reason']>;

// ---------------------------------------------------------------------------------------------------------------
// The stand-in's state (camelCase: ours, not GitHub's)

export interface StandinComment {
  id: number;
  body: string;
  /** Login of the author; comments made through the API are github-actions[bot]'s. */
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface StandinIssue {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: StateReason | null;
  /** Label names; the label objects are in `labels` of the stand-in. */
  labels: string[];
  comments: StandinComment[];
  user: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: string | null;
  locked: boolean;
  /** Listed with a `pull_request` field, as the issues endpoint lists pull requests. */
  pullRequest: boolean;
}

export interface StandinLabel {
  id: number;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface StandinWorkflow {
  id: number;
  name: string;
  /** E.g. `.github/workflows/backup.yml`; its file name also identifies the workflow in URLs. */
  path: string;
  state: WorkflowState;
  createdAt: string;
  updatedAt: string;
}

export interface StandinRepo {
  readonly owner: string;
  readonly name: string;
  readonly id: number;
  /** When the default branch last received a push; GET /repos/{owner}/{repo} reports it as `pushed_at`. */
  pushedAt: string;
  private: boolean;
}

export interface SeedIssue {
  number?: number;
  title: string;
  body?: string | null;
  state?: 'open' | 'closed';
  /** Defaults to 'completed' for closed issues. */
  stateReason?: StateReason | null;
  labels?: string[];
  comments?: (string | { body: string; user?: string; createdAt?: string | Date })[];
  user?: string;
  createdAt?: string | Date;
  updatedAt?: string | Date;
  closedAt?: string | Date;
  locked?: boolean;
  pullRequest?: boolean;
}

export interface SeedWorkflow {
  id?: number;
  name: string;
  path: string;
  state?: WorkflowState;
  createdAt?: string | Date;
}

export interface GitHubStandinOptions {
  /** The token clients must present; default a random `ghs_…` one. */
  token?: string;
  owner?: string; // default 'backstop-org'
  repo?: string; // default 'backstop'
  repoId?: number;
  /** The token's permissions; both default to 'write'. Change `standin.permissions` to alter them later. */
  permissions?: { issues?: Permission; actions?: Permission };
  /**
   * A private repository (the default) answers reads without the permission with 403, as GitHub does for a
   * GITHUB_TOKEN; a public one lets any valid token read.
   */
  private?: boolean;
  pushedAt?: string | Date;
  issues?: SeedIssue[];
  labels?: { name: string; color?: string; description?: string | null }[];
  workflows?: SeedWorkflow[];
  /** The clock for timestamps the stand-in writes (created_at, closed_at, ...). */
  now?: () => Date;
  /** Port to listen on (default: any free one); useful to know GITHUB_API_URL before starting. */
  port?: number;
  /** Used for html_url fields (GITHUB_SERVER_URL on a runner). */
  serverUrl?: string;
}

export interface GitHubRequest {
  method: string;
  /** The path as requested; `/repositories/{id}/…` (from Link headers) is not rewritten. */
  path: string;
  query: Record<string, string>;
  headers: {
    authorization?: string;
    accept?: string;
    'content-type'?: string;
    'user-agent'?: string;
    'x-github-api-version'?: string;
  };
  /** The parsed JSON body, when there was one. */
  body?: unknown;
  /** The status answered (set once the response is sent). */
  status?: number;
}

export interface FailureOptions {
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Default: a GitHub error body with a message for the status. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GitHubStandin {
  url: string; // http://127.0.0.1:<port>, what GITHUB_API_URL is set to
  token: string;
  repo: StandinRepo;
  permissions: { issues: Permission; actions: Permission };
  issues: StandinIssue[];
  labels: StandinLabel[];
  workflows: StandinWorkflow[];
  requests: GitHubRequest[];
  issue(number: number): StandinIssue | undefined;
  seedIssue(seed: SeedIssue): StandinIssue;
  seedWorkflow(seed: SeedWorkflow): StandinWorkflow;
  /**
   * The next `times` requests with this method whose path matches answer `status` instead (checked before
   * authentication, like a failing front end). Paths are matched as `/repos/{owner}/{repo}/…`, also for requests
   * that came in as `/repositories/{id}/…`.
   */
  failNext(method: string, path: RegExp | string, status: number, options?: FailureOptions): void;
  close(): Promise<void>;
}

export async function startGitHubStandin(options: GitHubStandinOptions = {}): Promise<GitHubStandin> {
  const standin = new Standin(options);
  return standin.listen(options.port ?? 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Constants

/** The account a GITHUB_TOKEN acts as. */
const ACTIONS_BOT = 'github-actions[bot]';
const ACTIONS_BOT_ID = 41898282;
/** Labels GitHub creates on the fly (issue creation with an unknown label name) get this color. */
const NEW_LABEL_COLOR = 'ededed';
/** GitHub rejects issue and comment bodies longer than this. */
const MAX_BODY_CHARS = 65_536;
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const DOCS = 'https://docs.github.com/rest';
const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 30;

// ---------------------------------------------------------------------------------------------------------------
// Requests and responses

interface Context {
  method: string;
  /** `/repos/{owner}/{repo}` stripped: what routes match (e.g. `/issues/3/comments`). */
  rest: string;
  query: URLSearchParams;
  body: unknown;
  record: GitHubRequest;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An answer that ends handling: GitHub's error body with this status. */
class GitHubError extends Error {
  readonly status: number;
  readonly body: BasicError | ValidationError;
  constructor(status: number, body: BasicError | ValidationError) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

function basicError(status: number, message: string, documentationUrl: string): GitHubError {
  const body: BasicError = { message, documentation_url: documentationUrl, status: String(status) };
  return new GitHubError(status, body);
}

function validationFailed(documentationUrl: string, errors: NonNullable<ValidationError['errors']>): GitHubError {
  const body: ValidationError = {
    message: 'Validation Failed',
    errors,
    documentation_url: documentationUrl,
    status: '422',
  };
  return new GitHubError(422, body);
}

/** What GitHub says when a required field is missing from a request body. */
function missingField(field: string, documentationUrl: string): GitHubError {
  return basicError(422, `Invalid request.\n\n"${field}" wasn't supplied.`, documentationUrl);
}

/** A success answer whose status and body are those the operation documents (the type checker holds us to it). */
function respond<Op extends Operation, Status extends DocumentedStatus<Op>>(
  _operation: Op,
  status: Status,
  body: ResponseBody<Op, Status>,
  headers?: Record<string, string>,
): Reply {
  return { status, body, ...(headers && { headers }) };
}

/** A 204 answer, for operations that document one. */
function noContent<Op extends Operation>(_operation: 204 extends DocumentedStatus<Op> ? Op : never): Reply {
  return { status: 204 };
}

type Scope = 'issues' | 'actions';
type Handler = (ctx: Context, params: string[]) => Reply;
interface Route {
  method: string;
  pattern: RegExp;
  /** The permission the token needs; undefined for metadata, which every token can read. */
  needs: { scope: Scope; level: 'read' | 'write' } | undefined;
  /** GitHub's error bodies point at the endpoint's documentation. */
  docs: string;
  handler: Handler;
}

interface Failure {
  method: string;
  path: RegExp | string;
  status: number;
  remaining: number;
  options: FailureOptions;
}

const STATUS_MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Validation Failed',
  429: 'Too Many Requests',
  500: 'Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

// ---------------------------------------------------------------------------------------------------------------
// The server

class Standin {
  private readonly server = http.createServer((req, res) => {
    // handle() answers its own errors; anything escaping it leaves no answer to give but a dropped connection.
    this.handle(req, res).catch(() => res.destroy());
  });
  private readonly token: string;
  private readonly repo: StandinRepo;
  private readonly permissions: { issues: Permission; actions: Permission };
  private readonly issues: StandinIssue[] = [];
  private readonly labels: StandinLabel[] = [];
  private readonly workflows: StandinWorkflow[] = [];
  private readonly requests: GitHubRequest[] = [];
  private readonly failures: Failure[] = [];
  private readonly routes: Route[];
  private readonly now: () => Date;
  private readonly serverUrl: string;
  private url = '';
  /** Issues and pull requests share one number sequence per repository. */
  private nextNumber = 1;
  private nextId = 1_000_001;

  constructor(options: GitHubStandinOptions) {
    this.token = options.token ?? `ghs_${randomBytes(18).toString('base64url')}`;
    this.now = options.now ?? (() => new Date());
    this.serverUrl = (options.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
    this.repo = {
      owner: options.owner ?? 'backstop-org',
      name: options.repo ?? 'backstop',
      id: options.repoId ?? 712_345_678,
      pushedAt: timestamp(options.pushedAt ?? this.now()),
      private: options.private ?? true,
    };
    this.permissions = {
      issues: options.permissions?.issues ?? 'write',
      actions: options.permissions?.actions ?? 'write',
    };
    for (const label of options.labels ?? []) this.label(label.name, label.color, label.description);
    for (const seed of options.issues ?? []) this.seedIssue(seed);
    for (const seed of options.workflows ?? []) this.seedWorkflow(seed);
    this.routes = this.defineRoutes();
  }

  async listen(port: number): Promise<GitHubStandin> {
    this.server.listen(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      this.server.once('listening', resolve).once('error', reject);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return {
      url: this.url,
      token: this.token,
      repo: this.repo,
      permissions: this.permissions,
      issues: this.issues,
      labels: this.labels,
      workflows: this.workflows,
      requests: this.requests,
      issue: (number) => this.issues.find((issue) => issue.number === number),
      seedIssue: (seed) => this.seedIssue(seed),
      seedWorkflow: (seed) => this.seedWorkflow(seed),
      failNext: (method, path, status, failureOptions = {}) => {
        this.failures.push({
          method: method.toUpperCase(),
          path,
          status,
          remaining: failureOptions.times ?? 1,
          options: failureOptions,
        });
      },
      close: () => this.close(),
    };
  }

  private async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Octokit's fetch keeps connections alive; without this, close() waits for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Seeding

  private seedIssue(seed: SeedIssue): StandinIssue {
    const number = seed.number ?? this.nextNumber;
    if (this.issues.some((issue) => issue.number === number)) throw new Error(`issue #${number} already exists`);
    this.nextNumber = Math.max(this.nextNumber, number + 1);
    const createdAt = timestamp(seed.createdAt ?? this.now());
    const state = seed.state ?? 'open';
    const issue: StandinIssue = {
      number,
      id: this.nextId++,
      title: seed.title,
      body: seed.body ?? null,
      state,
      stateReason: seed.stateReason !== undefined ? seed.stateReason : state === 'closed' ? 'completed' : null,
      labels: (seed.labels ?? []).map((name) => this.label(name).name),
      comments: [],
      user: seed.user ?? this.repo.owner,
      createdAt,
      updatedAt: timestamp(seed.updatedAt ?? seed.closedAt ?? createdAt),
      closedAt: state === 'closed' ? timestamp(seed.closedAt ?? seed.updatedAt ?? createdAt) : null,
      closedBy: state === 'closed' ? (seed.user ?? this.repo.owner) : null,
      locked: seed.locked ?? false,
      pullRequest: seed.pullRequest ?? false,
    };
    for (const comment of seed.comments ?? []) {
      const {
        body,
        user,
        createdAt: at,
      } = typeof comment === 'string' ? { body: comment, user: undefined, createdAt: undefined } : comment;
      const commentAt = timestamp(at ?? createdAt);
      issue.comments.push({
        id: this.nextId++,
        body,
        user: user ?? this.repo.owner,
        createdAt: commentAt,
        updatedAt: commentAt,
      });
    }
    this.issues.push(issue);
    return issue;
  }

  private seedWorkflow(seed: SeedWorkflow): StandinWorkflow {
    const id = seed.id ?? 100_000_001 + this.workflows.length;
    if (this.workflows.some((workflow) => workflow.id === id)) throw new Error(`workflow ${id} already exists`);
    const createdAt = timestamp(seed.createdAt ?? this.now());
    const workflow: StandinWorkflow = {
      id,
      name: seed.name,
      path: seed.path,
      state: seed.state ?? 'active',
      createdAt,
      updatedAt: createdAt,
    };
    this.workflows.push(workflow);
    return workflow;
  }

  /** The label with this name (GitHub compares label names case-insensitively), created when new. */
  private label(name: string, color?: string, description?: string | null): StandinLabel {
    const existing = this.labels.find((label) => label.name.toLowerCase() === name.toLowerCase());
    if (existing) return existing;
    const label: StandinLabel = {
      id: this.nextId++,
      name,
      color: color ?? NEW_LABEL_COLOR,
      description: description ?? null,
      default: false,
    };
    this.labels.push(label);
    return label;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Routing

  private defineRoutes(): Route[] {
    const route = (method: string, pattern: RegExp, needs: Route['needs'], docs: string, handler: Handler): Route => ({
      method,
      pattern,
      needs,
      docs: `${DOCS}/${docs}`,
      handler: handler.bind(this),
    });
    const issuesRead = { scope: 'issues', level: 'read' } as const;
    const issuesWrite = { scope: 'issues', level: 'write' } as const;
    const actionsRead = { scope: 'actions', level: 'read' } as const;
    const actionsWrite = { scope: 'actions', level: 'write' } as const;
    return [
      route('GET', /^$/, undefined, 'repos/repos#get-a-repository', this.getRepo),
      route('GET', /^\/issues$/, issuesRead, 'issues/issues#list-repository-issues', this.listIssues),
      route('POST', /^\/issues$/, issuesWrite, 'issues/issues#create-an-issue', this.createIssue),
      route('GET', /^\/issues\/(\d+)$/, issuesRead, 'issues/issues#get-an-issue', this.getIssue),
      route('PATCH', /^\/issues\/(\d+)$/, issuesWrite, 'issues/issues#update-an-issue', this.updateIssue),
      route('GET', /^\/issues\/(\d+)\/comments$/, issuesRead, 'issues/comments#list-issue-comments', this.listComments),
      route(
        'POST',
        /^\/issues\/(\d+)\/comments$/,
        issuesWrite,
        'issues/comments#create-an-issue-comment',
        this.createComment,
      ),
      route(
        'GET',
        /^\/actions\/workflows$/,
        actionsRead,
        'actions/workflows#list-repository-workflows',
        this.listWorkflows,
      ),
      route(
        'PUT',
        /^\/actions\/workflows\/([^/]+)\/enable$/,
        actionsWrite,
        'actions/workflows#enable-a-workflow',
        this.enableWorkflow,
      ),
      route(
        'PUT',
        /^\/actions\/workflows\/([^/]+)\/disable$/,
        actionsWrite,
        'actions/workflows#disable-a-workflow',
        this.disableWorkflow,
      ),
    ];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const record: GitHubRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headersOf(req),
    };
    this.requests.push(record);
    let reply: Reply;
    try {
      const body = await readJson(req);
      if (body !== undefined) record.body = body;
      reply = this.answer(method, url, body, record);
    } catch (error) {
      reply =
        error instanceof GitHubError
          ? { status: error.status, body: error.body }
          : { status: 500, body: { message: `stand-in error: ${(error as Error).message}` } };
    }
    record.status = reply.status;
    this.send(res, reply);
  }

  private answer(method: string, url: URL, body: unknown, record: GitHubRequest): Reply {
    const repoPath = this.repoPathOf(url.pathname);
    const failure = this.takeFailure(method, repoPath ?? url.pathname);
    if (failure) return failure;

    const credentials = this.checkCredentials(record.headers.authorization);
    if (credentials) throw credentials;

    const rest = repoPath?.slice(`/repos/${this.repo.owner}/${this.repo.name}`.length);
    if (rest === undefined) throw basicError(404, 'Not Found', DOCS);
    for (const candidate of this.routes) {
      if (candidate.method !== method) continue;
      const match = candidate.pattern.exec(rest);
      if (!match) continue;
      this.checkPermission(candidate);
      const ctx: Context = { method, rest, query: url.searchParams, body, record };
      try {
        return candidate.handler(ctx, match.slice(1));
      } catch (error) {
        // Handlers throw without knowing their documentation link; GitHub's bodies carry the endpoint's.
        if (error instanceof GitHubError && error.body.documentation_url === '')
          error.body.documentation_url = candidate.docs;
        throw error;
      }
    }
    // GitHub answers an unknown path, or a known one with the wrong method, with 404.
    throw basicError(404, 'Not Found', DOCS);
  }

  /** `/repos/{owner}/{repo}…` for this repository (either spelling, any letter case), else undefined. */
  private repoPathOf(path: string): string | undefined {
    const canonical = `/repos/${this.repo.owner}/${this.repo.name}`;
    const byName = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (
      byName &&
      decodeURIComponent(byName[1]!).toLowerCase() === this.repo.owner.toLowerCase() &&
      decodeURIComponent(byName[2]!).toLowerCase() === this.repo.name.toLowerCase()
    ) {
      return canonical + (byName[3] ?? '');
    }
    const byId = /^\/repositories\/(\d+)(\/.*)?$/.exec(path);
    if (byId && Number(byId[1]) === this.repo.id) return canonical + (byId[2] ?? '');
    return undefined;
  }

  private takeFailure(method: string, path: string): Reply | undefined {
    const index = this.failures.findIndex(
      (failure) =>
        failure.method === method &&
        (typeof failure.path === 'string' ? failure.path === path : failure.path.test(path)),
    );
    const failure = this.failures[index];
    if (!failure) return undefined;
    if (--failure.remaining <= 0) this.failures.splice(index, 1);
    const body =
      failure.options.body ??
      ({
        message: STATUS_MESSAGES[failure.status] ?? `HTTP ${failure.status}`,
        documentation_url: DOCS,
        status: String(failure.status),
      } satisfies BasicError);
    return { status: failure.status, body, ...(failure.options.headers && { headers: failure.options.headers }) };
  }

  /** GitHub accepts both schemes for installation tokens; a missing header is "Requires authentication". */
  private checkCredentials(authorization: string | undefined): GitHubError | undefined {
    if (authorization === undefined) return basicError(401, 'Requires authentication', DOCS);
    const presented = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (presented === undefined) return basicError(401, 'Bad credentials', DOCS);
    const [a, b] = [Buffer.from(presented), Buffer.from(this.token)];
    return a.length === b.length && timingSafeEqual(a, b) ? undefined : basicError(401, 'Bad credentials', DOCS);
  }

  private checkPermission(route: Route): void {
    if (!route.needs) return;
    const granted = this.permissions[route.needs.scope];
    const readable = granted !== 'none' || !this.repo.private;
    const allowed = route.needs.level === 'write' ? granted === 'write' : readable;
    if (!allowed) throw basicError(403, 'Resource not accessible by integration', route.docs);
  }

  private send(res: http.ServerResponse, reply: Reply): void {
    const headers: Record<string, string | number> = {
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      ...reply.headers,
    };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    const text = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(text);
    res.writeHead(reply.status, headers).end(text);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Repository

  private getRepo(): Reply {
    return respond('repos/get', 200, this.repoJson());
  }

  // -------------------------------------------------------------------------------------------------------------
  // Issues

  private listIssues(ctx: Context): Reply {
    const state = ctx.query.get('state') ?? 'open';
    if (state !== 'open' && state !== 'closed' && state !== 'all') {
      throw validationFailed('', [{ resource: 'Issue', field: 'state', code: 'invalid' }]);
    }
    // `labels` is a comma-separated list; an issue has to carry all of them.
    const wanted = (ctx.query.get('labels') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);
    const since = ctx.query.get('since');
    const sort = ctx.query.get('sort') ?? 'created';
    const ascending = ctx.query.get('direction') === 'asc';
    const key = (issue: StandinIssue): string | number =>
      sort === 'updated' ? issue.updatedAt : sort === 'comments' ? issue.comments.length : issue.createdAt;
    const matching = this.issues
      .filter((issue) => state === 'all' || issue.state === state)
      .filter((issue) => wanted.every((name) => issue.labels.some((label) => label.toLowerCase() === name)))
      .filter((issue) => since === null || issue.updatedAt >= timestamp(since))
      .sort((a, b) => {
        const [ka, kb] = [key(a), key(b)];
        // Equal keys (issues made in the same second) keep a stable order: by number.
        const order = ka < kb ? -1 : ka > kb ? 1 : a.number - b.number;
        return ascending ? order : -order;
      });
    const { items, headers } = this.page(ctx, matching);
    return respond(
      'issues/list-for-repo',
      200,
      items.map((issue) => this.issueJson(issue)),
      headers,
    );
  }

  private getIssue(_ctx: Context, [number]: string[]): Reply {
    return respond('issues/get', 200, this.issueJson(this.existingIssue(number)));
  }

  private createIssue(ctx: Context): Reply {
    const body = objectBody(ctx);
    const title = body.title;
    if (title === undefined || title === null) throw missingField('title', '');
    if (typeof title !== 'string' && typeof title !== 'number')
      throw validationFailed('', [{ resource: 'Issue', field: 'title', code: 'invalid' }]);
    const text = optionalBody(body.body, 'Issue');
    const labels = labelNames(body.labels);
    const at = timestamp(this.now());
    const issue: StandinIssue = {
      number: this.nextNumber++,
      id: this.nextId++,
      title: String(title),
      body: text ?? null,
      state: 'open',
      stateReason: null,
      // Unknown names become new labels: GitHub does that for tokens with push access.
      labels: labels.map((name) => this.label(name).name),
      comments: [],
      user: ACTIONS_BOT,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      closedBy: null,
      locked: false,
      pullRequest: false,
    };
    this.issues.push(issue);
    const json = this.issueJson(issue);
    return respond('issues/create', 201, json, { location: json.url });
  }

  private updateIssue(ctx: Context, [number]: string[]): Reply {
    const issue = this.existingIssue(number);
    const body = objectBody(ctx);
    const at = timestamp(this.now());
    if (body.title !== undefined) {
      if (typeof body.title !== 'string' && typeof body.title !== 'number')
        throw validationFailed('', [{ resource: 'Issue', field: 'title', code: 'invalid' }]);
      issue.title = String(body.title);
    }
    if (body.body !== undefined) issue.body = body.body === null ? null : (optionalBody(body.body, 'Issue') ?? null);
    if (body.labels !== undefined) issue.labels = labelNames(body.labels).map((name) => this.label(name).name);
    const reason = body.state_reason;
    if (reason !== undefined && reason !== null && !isStateReason(reason)) {
      throw validationFailed('', [
        { resource: 'Issue', field: 'state_reason', code: 'invalid', value: String(reason) },
      ]);
    }
    if (body.state !== undefined) {
      if (body.state !== 'open' && body.state !== 'closed')
        throw validationFailed('', [{ resource: 'Issue', field: 'state', code: 'invalid', value: String(body.state) }]);
      if (body.state === 'closed') {
        if (issue.state === 'open') {
          issue.closedAt = at;
          issue.closedBy = ACTIONS_BOT;
        }
        issue.state = 'closed';
        // Closing without a reason is closing as completed.
        issue.stateReason =
          reason ?? (issue.stateReason === 'reopened' || issue.stateReason === null ? 'completed' : issue.stateReason);
      } else if (issue.state === 'closed') {
        issue.state = 'open';
        issue.stateReason = 'reopened';
        issue.closedAt = null;
        issue.closedBy = null;
      }
    } else if (reason !== undefined && issue.state === 'closed') {
      issue.stateReason = reason ?? 'completed';
    }
    issue.updatedAt = at;
    return respond('issues/update', 200, this.issueJson(issue));
  }

  private listComments(ctx: Context, [number]: string[]): Reply {
    const issue = this.existingIssue(number);
    const { items, headers } = this.page(ctx, issue.comments);
    return respond(
      'issues/list-comments',
      200,
      items.map((comment) => this.commentJson(issue, comment)),
      headers,
    );
  }

  private createComment(ctx: Context, [number]: string[]): Reply {
    const issue = this.existingIssue(number);
    const body = objectBody(ctx);
    if (body.body === undefined || body.body === null) throw missingField('body', '');
    const text = optionalBody(body.body, 'IssueComment')!;
    // A locked issue takes comments only from collaborators; the bot is not one.
    if (issue.locked) throw basicError(403, 'Unable to create comment because issue is locked.', '');
    const at = timestamp(this.now());
    const comment: StandinComment = { id: this.nextId++, body: text, user: ACTIONS_BOT, createdAt: at, updatedAt: at };
    issue.comments.push(comment);
    issue.updatedAt = at;
    const json = this.commentJson(issue, comment);
    return respond('issues/create-comment', 201, json, { location: json.url });
  }

  private existingIssue(number: string | undefined): StandinIssue {
    const issue = this.issues.find((candidate) => candidate.number === Number(number));
    if (!issue) throw basicError(404, 'Not Found', '');
    return issue;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Workflows

  private listWorkflows(ctx: Context): Reply {
    const { items, headers } = this.page(ctx, this.workflows);
    return respond(
      'actions/list-repo-workflows',
      200,
      { total_count: this.workflows.length, workflows: items.map((workflow) => this.workflowJson(workflow)) },
      headers,
    );
  }

  private enableWorkflow(_ctx: Context, [workflowId]: string[]): Reply {
    this.setWorkflowState(workflowId, 'active');
    return noContent('actions/enable-workflow');
  }

  private disableWorkflow(_ctx: Context, [workflowId]: string[]): Reply {
    this.setWorkflowState(workflowId, 'disabled_manually');
    return noContent('actions/disable-workflow');
  }

  /** `workflowId` is the numeric id or the workflow's file name, as GitHub accepts both. */
  private setWorkflowState(workflowId: string | undefined, state: WorkflowState): void {
    const key = decodeURIComponent(workflowId ?? '');
    const workflow = this.workflows.find((candidate) =>
      /^\d+$/.test(key) ? candidate.id === Number(key) : candidate.path.split('/').pop() === key,
    );
    if (!workflow || workflow.state === 'deleted') throw basicError(404, 'Not Found', '');
    if (workflow.state !== state) {
      workflow.state = state;
      workflow.updatedAt = timestamp(this.now());
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Pagination

  /**
   * One page of `all` per `per_page` (default 30, at most 100) and `page` (from 1), with GitHub's `Link` header
   * when there is more than one page: prev, next, last, first, each the request's own URL with another page, under
   * `/repositories/{id}` as GitHub writes them.
   */
  private page<T>(ctx: Context, all: T[]): { items: T[]; headers: Record<string, string> | undefined } {
    const requested = Number.parseInt(ctx.query.get('per_page') ?? '', 10);
    const perPage = Number.isFinite(requested) && requested > 0 ? Math.min(requested, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
    const requestedPage = Number.parseInt(ctx.query.get('page') ?? '', 10);
    const page = Number.isFinite(requestedPage) && requestedPage > 0 ? requestedPage : 1;
    const items = all.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    if (last === 1 && page === 1) return { items, headers: undefined };
    const linkTo = (target: number, rel: string) => {
      const query = new URLSearchParams(ctx.query);
      query.set('page', String(target));
      return `<${this.url}/repositories/${this.repo.id}${ctx.rest}?${query}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(linkTo(Math.min(page - 1, last), 'prev'));
    if (page < last) links.push(linkTo(page + 1, 'next'), linkTo(last, 'last'));
    if (page > 1) links.push(linkTo(1, 'first'));
    return { items, headers: { link: links.join(', ') } };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Response bodies, each typed as GitHub's schema

  private get apiRepoUrl(): string {
    return `${this.url}/repos/${this.repo.owner}/${this.repo.name}`;
  }

  private get htmlRepoUrl(): string {
    return `${this.serverUrl}/${this.repo.owner}/${this.repo.name}`;
  }

  private userJson(login: string): Schemas['simple-user'] {
    const bot = login === ACTIONS_BOT;
    const owner = login === this.repo.owner;
    const id = bot ? ACTIONS_BOT_ID : stableId(login);
    const api = `${this.url}/users/${encodeURIComponent(login)}`;
    return {
      login,
      id,
      node_id: bot ? 'MDM6Qm90NDE4OTgyODI=' : Buffer.from(`04:User${id}`).toString('base64'),
      avatar_url: bot
        ? 'https://avatars.githubusercontent.com/in/15368?v=4'
        : `https://avatars.githubusercontent.com/u/${id}?v=4`,
      gravatar_id: '',
      url: api,
      html_url: bot ? `${this.serverUrl}/apps/github-actions` : `${this.serverUrl}/${login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: bot ? 'Bot' : owner ? 'Organization' : 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  }

  private labelJson(name: string): Schemas['label'] {
    const label = this.label(name);
    return {
      id: label.id,
      node_id: Buffer.from(`010:Label${label.id}`).toString('base64'),
      url: `${this.apiRepoUrl}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      description: label.description,
      color: label.color,
      default: label.default,
    };
  }

  private authorAssociation(login: string): Schemas['author-association'] {
    return login === this.repo.owner ? 'OWNER' : 'NONE';
  }

  private reactions(url: string): Schemas['reaction-rollup'] {
    return {
      url: `${url}/reactions`,
      total_count: 0,
      '+1': 0,
      '-1': 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    };
  }

  private issueJson(issue: StandinIssue): Schemas['issue'] {
    const url = `${this.apiRepoUrl}/issues/${issue.number}`;
    const kind = issue.pullRequest ? 'pull' : 'issues';
    return {
      url,
      repository_url: this.apiRepoUrl,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.htmlRepoUrl}/${kind}/${issue.number}`,
      id: issue.id,
      node_id: Buffer.from(`${issue.pullRequest ? '011:PullRequest' : '05:Issue'}${issue.id}`).toString('base64'),
      number: issue.number,
      title: issue.title,
      user: this.userJson(issue.user),
      labels: issue.labels.map((name) => this.labelJson(name)),
      state: issue.state,
      locked: issue.locked,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.comments.length,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author_association: this.authorAssociation(issue.user),
      active_lock_reason: null,
      ...(issue.pullRequest && {
        draft: false,
        pull_request: {
          url: `${this.apiRepoUrl}/pulls/${issue.number}`,
          html_url: `${this.htmlRepoUrl}/pull/${issue.number}`,
          diff_url: `${this.htmlRepoUrl}/pull/${issue.number}.diff`,
          patch_url: `${this.htmlRepoUrl}/pull/${issue.number}.patch`,
          merged_at: null,
        },
      }),
      body: issue.body,
      closed_by: issue.closedBy === null ? null : this.userJson(issue.closedBy),
      reactions: this.reactions(url),
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: issue.stateReason,
    };
  }

  private commentJson(issue: StandinIssue, comment: StandinComment): Schemas['issue-comment'] {
    const url = `${this.apiRepoUrl}/issues/comments/${comment.id}`;
    return {
      url,
      html_url: `${this.htmlRepoUrl}/issues/${issue.number}#issuecomment-${comment.id}`,
      issue_url: `${this.apiRepoUrl}/issues/${issue.number}`,
      id: comment.id,
      node_id: Buffer.from(`012:IssueComment${comment.id}`).toString('base64'),
      user: this.userJson(comment.user),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: this.authorAssociation(comment.user),
      body: comment.body,
      reactions: this.reactions(url),
      performed_via_github_app: null,
    };
  }

  private workflowJson(workflow: StandinWorkflow): Schemas['workflow'] {
    const file = workflow.path.split('/').pop() ?? workflow.path;
    return {
      id: workflow.id,
      node_id: Buffer.from(`08:Workflow${workflow.id}`).toString('base64'),
      name: workflow.name,
      path: workflow.path,
      state: workflow.state,
      created_at: workflow.createdAt,
      updated_at: workflow.updatedAt,
      url: `${this.apiRepoUrl}/actions/workflows/${workflow.id}`,
      html_url: `${this.htmlRepoUrl}/blob/main/${workflow.path}`,
      badge_url: `${this.htmlRepoUrl}/workflows/${encodeURIComponent(file)}/badge.svg`,
    };
  }

  private repoJson(): Schemas['full-repository'] {
    const { owner, name, id } = this.repo;
    const api = this.apiRepoUrl;
    const html = this.htmlRepoUrl;
    const host = new URL(this.serverUrl).host;
    const ownerJson = this.userJson(owner);
    const openIssues = this.issues.filter((issue) => issue.state === 'open').length;
    // ISO timestamps compare as strings, which Math.min cannot take.
    const createdAt = this.issues.reduce(
      // biome-ignore lint/complexity/useMathMinMax: strings, not numbers.
      (earliest, issue) => (issue.createdAt < earliest ? issue.createdAt : earliest),
      this.repo.pushedAt,
    );
    return {
      id,
      node_id: Buffer.from(`010:Repository${id}`).toString('base64'),
      name,
      full_name: `${owner}/${name}`,
      private: this.repo.private,
      owner: ownerJson,
      html_url: html,
      description: 'Backup-as-code for PostgreSQL, TimescaleDB and Qdrant.',
      fork: false,
      url: api,
      forks_url: `${api}/forks`,
      keys_url: `${api}/keys{/key_id}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      teams_url: `${api}/teams`,
      hooks_url: `${api}/hooks`,
      issue_events_url: `${api}/issues/events{/number}`,
      events_url: `${api}/events`,
      assignees_url: `${api}/assignees{/user}`,
      branches_url: `${api}/branches{/branch}`,
      tags_url: `${api}/tags`,
      blobs_url: `${api}/git/blobs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      trees_url: `${api}/git/trees{/sha}`,
      statuses_url: `${api}/statuses/{sha}`,
      languages_url: `${api}/languages`,
      stargazers_url: `${api}/stargazers`,
      contributors_url: `${api}/contributors`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      commits_url: `${api}/commits{/sha}`,
      git_commits_url: `${api}/git/commits{/sha}`,
      comments_url: `${api}/comments{/number}`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      contents_url: `${api}/contents/{+path}`,
      compare_url: `${api}/compare/{base}...{head}`,
      merges_url: `${api}/merges`,
      archive_url: `${api}/{archive_format}{/ref}`,
      downloads_url: `${api}/downloads`,
      issues_url: `${api}/issues{/number}`,
      pulls_url: `${api}/pulls{/number}`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      labels_url: `${api}/labels{/name}`,
      releases_url: `${api}/releases{/id}`,
      deployments_url: `${api}/deployments`,
      created_at: createdAt,
      updated_at: this.repo.pushedAt,
      pushed_at: this.repo.pushedAt,
      git_url: `git://${host}/${owner}/${name}.git`,
      ssh_url: `git@${host}:${owner}/${name}.git`,
      clone_url: `${html}.git`,
      svn_url: html,
      homepage: null,
      size: 1024,
      stargazers_count: 0,
      watchers_count: 0,
      language: 'TypeScript',
      has_issues: true,
      has_projects: false,
      has_downloads: true,
      has_wiki: false,
      has_pages: false,
      has_discussions: false,
      forks_count: 0,
      mirror_url: null,
      archived: false,
      disabled: false,
      open_issues_count: openIssues,
      license: null,
      allow_forking: !this.repo.private,
      is_template: false,
      web_commit_signoff_required: false,
      topics: [],
      visibility: this.repo.private ? 'private' : 'public',
      forks: 0,
      open_issues: openIssues,
      watchers: 0,
      default_branch: 'main',
      // An installation token (GITHUB_TOKEN) sees what the app may do: push rights, no admin.
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      temp_clone_token: '',
      organization: ownerJson,
      network_count: 0,
      subscribers_count: 0,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** GitHub's timestamps: ISO 8601 in UTC without milliseconds. */
function timestamp(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw basicError(422, `Invalid timestamp: ${String(value)}`, '');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A positive id derived from a name, so a user keeps the same id across responses and runs. */
function stableId(name: string): number {
  let hash = 2166136261;
  for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619);
  return ((hash >>> 0) % 90_000_000) + 10_000_000;
}

const STATE_REASONS: readonly StateReason[] = ['completed', 'reopened', 'not_planned', 'duplicate'];
function isStateReason(value: unknown): value is StateReason {
  return STATE_REASONS.includes(value as StateReason);
}

function headersOf(req: http.IncomingMessage): GitHubRequest['headers'] {
  const headers: GitHubRequest['headers'] = {};
  for (const name of ['authorization', 'accept', 'content-type', 'user-agent', 'x-github-api-version'] as const) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_REQUEST_BYTES) throw basicError(413, 'Payload too large', DOCS);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw basicError(400, 'Problems parsing JSON', DOCS);
  }
}

function objectBody(ctx: Context): Record<string, unknown> {
  const body = ctx.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw basicError(400, 'Problems parsing JSON', '');
  return body as Record<string, unknown>;
}

/** A body text, checked against GitHub's length limit (which report bodies can plausibly hit). */
function optionalBody(value: unknown, resource: 'Issue' | 'IssueComment'): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validationFailed('', [{ resource, field: 'body', code: 'invalid' }]);
  if (value.length > MAX_BODY_CHARS) {
    throw validationFailed('', [
      {
        resource,
        field: 'body',
        code: 'custom',
        message: `body is too long (maximum is ${MAX_BODY_CHARS} characters)`,
      },
    ]);
  }
  return value;
}

/** Label names from a request: each a name or an object with one. */
function labelNames(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw validationFailed('', [{ resource: 'Label', field: 'labels', code: 'invalid' }]);
  return value.map((entry: unknown) => {
    const name =
      typeof entry === 'string'
        ? entry
        : typeof entry === 'object' && entry !== null
          ? (entry as { name?: unknown }).name
          : undefined;
    if (typeof name !== 'string' || name.trim() === '')
      throw validationFailed('', [{ resource: 'Label', field: 'name', code: 'missing_field' }]);
    return name.trim();
  });
}
