/**
 * One Apollo Client per credential, on a split link:
 * - subscriptions over graphql-ws (same origin, path /graphql; the credential in
 *   `connectionParams.authorization`, as the API expects);
 * - queries and mutations over HTTP with apollo-upload-client, which sends a GraphQL multipart request
 *   when the variables hold a File or Blob (convertMelody's `audio`) and plain JSON otherwise. Every
 *   request carries `Apollo-Require-Preflight: true`: the API refuses multipart requests without it
 *   (CSRF prevention) before reading the body.
 */
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { authorizationOf } from './auth';

export interface AppClient {
  client: ApolloClient;
  /** Closes the WebSocket (the credential changed or the user signed out). */
  dispose(): void;
}

export function createAppClient(credential: string): AppClient {
  const authorization = authorizationOf(credential);
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  const ws = createClient({ url: wsUrl, connectionParams: { authorization }, lazy: true, retryAttempts: 5 });
  const http = new UploadHttpLink({ uri: '/graphql', headers: { authorization, 'Apollo-Require-Preflight': 'true' } });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    new GraphQLWsLink(ws),
    http,
  );
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        // Relay paging: pages fetched with `after` are appended to the same list per status filter.
        Query: { fields: { history: relayStylePagination(['status']) } },
      },
    }),
  });
  return {
    client,
    dispose() {
      void ws.dispose();
      client.stop();
    },
  };
}
