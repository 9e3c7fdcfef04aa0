import { Module } from '@nestjs/common';
import { ProcessorsController } from './processors.controller';
import { ProcessorsService } from './processors.service';

/** Processors: the tenant's Mutelist, applied at ingestion (scans' encoding thread) and by the mutelist-backfill job. */
@Module({
  controllers: [ProcessorsController],
  providers: [ProcessorsService],
})
export class ProcessorsModule {}
