import { AppConfig } from './config/app-config';

/** The lines a started API prints, last: where to reach it. */
export function serviceAddresses(config: AppConfig): string {
  const base = `http://${config.http.host}:${config.http.port}`;
  return `\nAPI:        ${base}/api/v1\nSwagger UI: ${base}/api/v1/docs\nHealth:     ${base}/health/ready\n\n`;
}
