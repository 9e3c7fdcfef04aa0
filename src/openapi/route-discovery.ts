import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';

/** @nestjs/swagger's metadata keys for @ApiTags and @ApiExcludeController, which the controllers keep using. */
const API_TAGS = 'swagger/apiUseTags';
const API_EXCLUDE_CONTROLLER = 'swagger/apiExcludeController';

/** One handler as Nest will route it, found from the module graph's metadata without starting anything. */
export interface DiscoveredRoute {
  controller: Function;
  handlerName: string;
  handler: Function;
  method: string;
  /** The path as Nest sees it, without the global prefix, e.g. `providers/:id`. */
  path: string;
  tags: string[];
  /** The route's parameter decorators: Nest's own (`@Param`, `@Body`) and custom ones (`@JsonApiQuery`). */
  args: RouteArgument[];
}

export interface RouteArgument {
  index: number;
  /** Nest's RouteParamtypes for built-in decorators; the factory for custom ones. */
  kind: number | Function;
  data: unknown;
  pipes: unknown[];
}

type ModuleEntry = Function | { module: Function; imports?: unknown[]; controllers?: Function[] } | { forwardRef: () => unknown };

/**
 * Walks the modules reachable from `rootModule` (static imports and dynamic
 * module objects alike) and lists every route of every controller, in the
 * order Nest registers them. Reading metadata only means the build can write
 * the OpenAPI document without databases or Redis.
 */
export function discoverRoutes(rootModule: Function): DiscoveredRoute[] {
  const routes: DiscoveredRoute[] = [];
  const seenModules = new Set<unknown>();
  const seenControllers = new Set<Function>();
  const visit = (entry: unknown): void => {
    if (!entry || seenModules.has(entry)) return;
    if (typeof entry === 'object' && 'forwardRef' in (entry as object)) return visit((entry as { forwardRef: () => unknown }).forwardRef());
    if (typeof entry !== 'function' && !(typeof entry === 'object' && 'module' in (entry as object))) return;
    seenModules.add(entry);
    const dynamic = typeof entry === 'function' ? undefined : (entry as Exclude<ModuleEntry, Function | { forwardRef: () => unknown }>);
    const moduleClass = dynamic ? dynamic.module : (entry as Function);
    const imports = [...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, moduleClass) as unknown[]) ?? []), ...(dynamic?.imports ?? [])];
    const controllers = [...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, moduleClass) as Function[]) ?? []), ...(dynamic?.controllers ?? [])];
    for (const controller of controllers) {
      if (seenControllers.has(controller)) continue;
      seenControllers.add(controller);
      routes.push(...controllerRoutes(controller));
    }
    for (const imported of imports) visit(imported);
  };
  visit(rootModule);
  return routes;
}

function controllerRoutes(controller: Function): DiscoveredRoute[] {
  if (Reflect.getMetadata(API_EXCLUDE_CONTROLLER, controller)?.[0]) return [];
  const base = firstPath(Reflect.getMetadata(PATH_METADATA, controller));
  const tags = (Reflect.getMetadata(API_TAGS, controller) as string[] | undefined) ?? [controller.name.replace(/Controller$/, '')];
  const prototype = controller.prototype as Record<string, unknown>;
  const routes: DiscoveredRoute[] = [];
  for (const handlerName of Object.getOwnPropertyNames(prototype)) {
    const handler = prototype[handlerName];
    if (handlerName === 'constructor' || typeof handler !== 'function') continue;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    const own = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
    if (method === undefined || own === undefined) continue;
    const path = [base, firstPath(own)].filter((part) => part.length > 0).join('/');
    routes.push({ controller, handlerName, handler, method: RequestMethod[method], path, tags, args: routeArguments(controller, handlerName) });
  }
  return routes;
}

function routeArguments(controller: Function, handlerName: string): RouteArgument[] {
  const raw = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handlerName) ?? {}) as Record<string, { index: number; data: unknown; pipes?: unknown[]; factory?: Function }>;
  return Object.entries(raw).map(([key, value]) => ({
    index: value.index,
    kind: value.factory ?? Number(key.split(':')[0]),
    data: value.data,
    pipes: value.pipes ?? [],
  }));
}

function firstPath(path: string | string[] | undefined): string {
  const value = Array.isArray(path) ? path[0] : path;
  return (value ?? '').replace(/^\/+|\/+$/g, '');
}
