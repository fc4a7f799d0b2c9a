/**
 * The Relay `Node` interface: anything with an opaque global id that `node(id)` can fetch again.
 * Global ids are made and read in ./global-id.ts.
 */
import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType('Node', {
  description: 'An object with an opaque global id; `node(id)` fetches it again (Relay Global Object Identification).',
  // Conversion is the only implementation; naming it here spares a class-instance check on every value.
  resolveType: () => 'Conversion',
})
export abstract class NodeInterface {
  @Field(() => ID, { description: "Opaque global id: pass it to `node` or the type's own query; never parse it." })
  id!: string;
}
