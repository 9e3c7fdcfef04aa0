import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ProvidersService } from '../providers/providers.service';
import { ScanStarter } from '../tasks/scans/scan-starter';
import { TaskRow } from '../tasks/task.resource';
import { ScanRow } from './scan.resource';
import { ScansRepository } from './scans.repository';

const PROVIDER_POINTER = '/data/relationships/provider/data';

@Injectable()
export class ScansService {
  constructor(
    private readonly scans: ScansRepository,
    private readonly providers: ProvidersService,
    private readonly starter: ScanStarter,
  ) {}

  list(query: ParsedQuery): Promise<{ rows: ScanRow[]; count: number }> {
    return this.scans.list(query);
  }

  async get(id: string): Promise<ScanRow> {
    const scan = await this.scans.find(id);
    if (!scan) throw ApiError.notFound('Scan not found.');
    return scan;
  }

  /** A manual scan of a provider the caller may see; it waits if the provider already has one running. */
  async start(providerId: string, name: string | null): Promise<TaskRow> {
    await this.providers.getVisibleProvider(providerId, PROVIDER_POINTER);
    return this.starter.start(providerId, 'manual', name);
  }

  /** `undefined` leaves the name as it is (a PATCH without it). */
  async rename(id: string, name: string | null | undefined): Promise<ScanRow> {
    const scan = await this.get(id);
    if (name === undefined) return scan;
    await this.scans.rename(id, name);
    return this.get(id);
  }
}
