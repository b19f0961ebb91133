/**
 * The Sentry endpoints the exporter calls, as path templates: the names they carry in errors, logs and the
 * `endpoint` label of the self-metrics (never a URL with ids or query strings). See docs/sentry-api.md for
 * what each one answers and where that is in Sentry's code.
 */
export const ENDPOINTS = {
  /** The API's index, `{"version": "0"}`: asked only to tell where the API is when the first call fails. */
  index: '/',
  projects: '/organizations/{org}/projects/',
  environments: '/projects/{org}/{project}/environments/',
  issues: '/organizations/{org}/issues/',
  projectKeys: '/projects/{org}/{project}/keys/',
  organizationProjectKeys: '/organizations/{org}/project-keys/',
  statsV2: '/organizations/{org}/stats_v2/',
  sessions: '/organizations/{org}/sessions/',
  currentRelease: '/organizations/{org}/issues/{issue_id}/current-release/',
  monitors: '/organizations/{org}/monitors/',
  events: '/organizations/{org}/events/',
} as const;

export type EndpointTemplate = (typeof ENDPOINTS)[keyof typeof ENDPOINTS];

/**
 * The token scope each endpoint needs, named in 401/403 errors. From the permission classes of the
 * endpoints (docs/sentry-api.md, "Scopes").
 */
export const REQUIRED_SCOPE: Record<EndpointTemplate, string> = {
  // IndexEndpoint: permission_classes = () (src/sentry/api/endpoints/index.py)
  [ENDPOINTS.index]: 'none',
  [ENDPOINTS.projects]: 'org:read',
  [ENDPOINTS.statsV2]: 'org:read',
  // OrganizationSessionsEndpoint keeps OrganizationEndpoint's OrganizationPermission (GET: org:read).
  [ENDPOINTS.sessions]: 'org:read',
  [ENDPOINTS.environments]: 'project:read',
  [ENDPOINTS.projectKeys]: 'project:read',
  [ENDPOINTS.organizationProjectKeys]: 'org:read',
  [ENDPOINTS.issues]: 'event:read',
  [ENDPOINTS.currentRelease]: 'event:read',
  // OrganizationAlertRulePermission: any of org:read, org:write, org:admin or alerts:read.
  [ENDPOINTS.monitors]: 'org:read or alerts:read',
  // OrganizationEventsEndpointBase keeps OrganizationEndpoint's OrganizationPermission (GET: org:read).
  [ENDPOINTS.events]: 'org:read',
};
