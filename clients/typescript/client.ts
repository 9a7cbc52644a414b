// The TypeScript client of the API, the package @agentos-sessions/client:
// openapi-fetch typed by the paths that openapi-typescript generates from
// openapi.yaml into schema.d.ts.
import createClient from "openapi-fetch";
import type { paths, components } from "./schema.js";

export type { paths, components };
export type Schemas = components["schemas"];

/** sessionsClient returns a typed client of the server at baseUrl, sending
 * securityKey (the server's OS_SECURITY_KEY, or a JWT) as a bearer token
 * when it is given. */
export function sessionsClient(baseUrl: string, securityKey?: string) {
  const headers: Record<string, string> = {};
  if (securityKey) headers["Authorization"] = `Bearer ${securityKey}`;
  return createClient<paths>({ baseUrl, headers });
}
