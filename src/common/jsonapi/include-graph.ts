import { Global, Injectable, Module } from '@nestjs/common';
import type { IncludedSet } from './document';
import type { ResourceDefinition } from './resource-definition';

/** How a feature hands out the rows of its type that a compound document includes. */
export interface IncludeSource<Row = any> {
  definition: ResourceDefinition<Row>;
  /**
   * The rows with these ids that the caller may read, in one query: the same
   * visibility and row filter rules as the type's own list apply.
   */
  load(ids: readonly string[]): Promise<readonly Row[]>;
}

type IncludeTree = Map<string, IncludeTree>;

interface Node {
  definition: ResourceDefinition<any>;
  rows: readonly unknown[];
  tree: IncludeTree;
}

/**
 * Resolves include paths, dotted ones too (`scan.provider`), over the
 * relationships the resource definitions declare. Paths are walked level by
 * level, and each level loads each type once for every path that reaches it,
 * so a document costs one query per included type and level, never one per row.
 */
@Injectable()
export class IncludeGraph {
  private readonly sources = new Map<string, IncludeSource>();

  register(source: IncludeSource): void {
    this.sources.set(source.definition.type, source);
  }

  async included<Row>(definition: ResourceDefinition<Row>, rows: readonly Row[], paths: readonly string[]): Promise<IncludedSet[]> {
    const sets: IncludedSet[] = [];
    let frontier: Node[] = [{ definition, rows, tree: toTree(paths) }];
    while (frontier.length > 0) {
      const wanted = new Map<string, Set<string>>();
      const steps: Array<{ source: IncludeSource; ids: string[]; tree: IncludeTree }> = [];
      for (const node of frontier) {
        for (const [name, tree] of node.tree) {
          const relationship = node.definition.relationships?.[name];
          const source = relationship && this.sources.get(relationship.type);
          if (!relationship || !source) throw new Error(`'${node.definition.type}' has no includable relationship '${name}'`);
          const ids = [...new Set(node.rows.flatMap((row) => idsOf(relationship.ids(row))))];
          const ofType = wanted.get(relationship.type) ?? new Set<string>();
          ids.forEach((id) => ofType.add(id));
          wanted.set(relationship.type, ofType);
          steps.push({ source, ids, tree });
        }
      }
      const loaded = new Map<string, Map<string, unknown>>();
      for (const [type, ids] of wanted) {
        const source = this.sources.get(type)!;
        const found = ids.size === 0 ? [] : await source.load([...ids]);
        loaded.set(type, new Map(found.map((row) => [source.definition.id(row), row])));
      }
      frontier = [];
      for (const step of steps) {
        const byId = loaded.get(step.source.definition.type)!;
        const rowsOfStep = step.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)] : []));
        sets.push({ definition: step.source.definition, rows: rowsOfStep });
        if (step.tree.size > 0) frontier.push({ definition: step.source.definition, rows: rowsOfStep, tree: step.tree });
      }
    }
    return sets;
  }
}

function idsOf(ids: string | readonly string[] | null | undefined): readonly string[] {
  if (ids === null || ids === undefined) return [];
  return typeof ids === 'string' ? [ids] : ids;
}

function toTree(paths: readonly string[]): IncludeTree {
  const root: IncludeTree = new Map();
  for (const path of paths) {
    let node = root;
    for (const name of path.split('.')) {
      if (!node.has(name)) node.set(name, new Map());
      node = node.get(name)!;
    }
  }
  return root;
}

/** Global, so every feature module can register the types it owns. */
@Global()
@Module({ providers: [IncludeGraph], exports: [IncludeGraph] })
export class IncludeGraphModule {}
