// Google Cloud's metadata server, asked once at start for the project id and region the mini agent
// tags with (`project_id`, `location`), as serverless-components' mini agent does. Only when reachable:
// each request has a short timeout, and an unreachable server (a developer machine) costs at most that.
import http from 'node:http';

/** Per request; both requests run at once. */
export const METADATA_TIMEOUT_MS = 300;

function get(host: string, path: string): Promise<string | undefined> {
  const [hostname, port] = host.includes(':') ? (host.split(':') as [string, string]) : [host, '80'];
  return new Promise((resolve) => {
    const req = http.get({ hostname, port: Number(port), path, headers: { 'metadata-flavor': 'Google' }, timeout: METADATA_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.length + body.length > 4096 ? '' : c));
      res.on('end', () => resolve(res.statusCode === 200 && res.headers['metadata-flavor'] === 'Google' ? body.trim() : undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** `project_id` and `location` from the metadata server; an empty record when it does not answer. */
export async function gcpMetadataTags(host: string): Promise<Record<string, string>> {
  const [project, region] = await Promise.all([get(host, '/computeMetadata/v1/project/project-id'), get(host, '/computeMetadata/v1/instance/region')]);
  const tags: Record<string, string> = {};
  if (project) tags['project_id'] = project;
  // The region comes as projects/<number>/regions/<region>.
  const location = region?.split('/').pop();
  if (location) tags['location'] = location;
  return tags;
}
