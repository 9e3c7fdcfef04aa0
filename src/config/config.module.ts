import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Holds the configuration each process loaded and validated at start. It is
 * passed in rather than read from the environment here, so one process can
 * run several differently configured applications (tests do).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

@Module({})
class ConfiguredRoot {}

/** Wraps a root module with the given configuration: what every entry point hands to NestFactory. */
export function withConfig(config: AppConfig, rootModule: unknown): DynamicModule {
  return { module: ConfiguredRoot, imports: [ConfigModule.forRoot(config), rootModule as never] };
}
