/**
 * Read-side queries on conversions: `conversion(id)`, `history(first, after, status)` and `node(id)`.
 * Thin: authenticate, call {@link ConversionQueryService}, present rows as GraphQL objects.
 */
import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../graphql-context.js';
import { NodeInterface } from '../node/node.types.js';
import { ConversionObject, ConversionStatus, presentConversion } from './conversion.types.js';
import { ConversionConnection, ConversionEdge, PageInfo } from './conversion-connection.types.js';
import { ConversionQueryService, HISTORY_DEFAULT_PAGE, HISTORY_MAX_PAGE } from './conversion-query.service.js';

@Resolver(() => ConversionConnection)
export class ConversionQueryResolver {
  @Query(() => ConversionObject, {
    nullable: true,
    description:
      "One of your conversions by id (`Conversion.id`; a raw UUID works too). Null when there is none, including when the id is someone else's.",
  })
  async conversion(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ConversionObject | null> {
    const user = requireUser(ctx);
    const row = await new ConversionQueryService(ctx.em).findOwned(user.id, id);
    return row ? presentConversion(row, ctx.services.config) : null;
  }

  @Query(() => NodeInterface, {
    nullable: true,
    description: "Any object by its opaque global id (Relay). Null for unknown, malformed or other users' ids.",
  })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ConversionObject | null> {
    const user = requireUser(ctx);
    const row = await new ConversionQueryService(ctx.em).node(user.id, id);
    return row ? presentConversion(row, ctx.services.config) : null;
  }

  @Query(() => ConversionConnection, {
    description: `Your conversions, newest first, as a Relay connection. Pages are keyed on (createdAt, id), so conversions created while you page never make rows repeat or go missing. \`first\` is 0..${HISTORY_MAX_PAGE} (larger is an error, BAD_USER_INPUT, not clamped).`,
  })
  async history(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, {
      nullable: true,
      defaultValue: HISTORY_DEFAULT_PAGE,
      description: `Page size, 0..${HISTORY_MAX_PAGE}; null means ${HISTORY_DEFAULT_PAGE}.`,
    })
    first: number | null,
    @Arg('after', () => String, { nullable: true, description: '`pageInfo.endCursor` of the previous page.' }) after: string | null,
    @Arg('status', () => ConversionStatus, { nullable: true, description: 'Only conversions in this status.' })
    status: ConversionStatus | null,
  ): Promise<ConversionConnection> {
    const user = requireUser(ctx);
    // A bad `first` or `after` throws HistoryArgumentError, a BAD_USER_INPUT (src/graphql/client-errors.ts answers it).
    const page = await new ConversionQueryService(ctx.em).history(user.id, { first, after, status });
    const now = Date.now();
    return Object.assign(new ConversionConnection(), {
      edges: page.edges.map((edge) =>
        Object.assign(new ConversionEdge(), { cursor: edge.cursor, node: presentConversion(edge.node, ctx.services.config, now) }),
      ),
      pageInfo: Object.assign(new PageInfo(), page.pageInfo),
      countTotal: page.totalCount,
    });
  }

  @FieldResolver(() => Int)
  totalCount(@Root() connection: ConversionConnection): Promise<number> {
    return connection.countTotal();
  }
}
