import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, PeopleResponse, QueryPeopleQuery } from '@parley/protocol';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { queryPeople } from './queries.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

export function peopleRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/people',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['users'],
          summary: 'The people directory: every user of the app, searched and filtered, a page at a time',
          description:
            'Ordered by name then id; `next` is the cursor of the following page (null on the last; send it with ' +
            'the same filters). `q` matches the start of a word of the name or the title, of the username, and for ' +
            'admins of the email. `role` filters by app role (`guest` lists guests); `title` by the start of a word ' +
            'of the title. `field=<field id>:<value>`, repeated up to 5 times, filters by custom profile fields: a ' +
            '`choice` field by the exact option, `text` and `link` by case-insensitive prefix; a field the caller ' +
            'may not see (non-admins: `admins` fields) or of another app is 400 VALIDATION_ERROR naming it, like ' +
            'an unknown one. Every filter must hold. Deactivated accounts are left out; admins list only them with ' +
            '`deactivated=true` (403 FORBIDDEN for anyone else). Admins and server tokens also see `email`, ' +
            '`workspace_role` and `deactivated`. A guest sees only itself and people who share a channel with it.',
          querystring: QueryPeopleQuery,
          response: { 200: PeopleResponse, ...errors },
        },
      },
      async (req) => queryPeople(svc, callerOf(req), req.query),
    );
  };
}
