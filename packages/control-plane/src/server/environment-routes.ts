/**
 * `POST /v1/environments` (local extension, contract §6): the admin creates an environment and
 * receives its environment key, shown this once.
 */
import { addApiRoute, type RouteKit } from './route-context.js';
import { parseCreateEnvironmentBody } from './validation.js';

export function addEnvironmentRoutes(kit: RouteKit): void {
  addApiRoute(kit, {
    method: 'POST',
    url: '/v1/environments',
    access: { environmentKey: false, sessionsToken: false, admin: true },
    query: {},
    handler: async ({ request, reply }) => {
      const record = await kit.store.createEnvironment(parseCreateEnvironmentBody(request.body));
      reply.code(201);
      return {
        type: 'environment',
        id: record.id,
        name: record.name,
        config: { type: 'self_hosted' },
        environment_key: record.key,
        created_at: record.created_at,
      };
    },
  });
}
