import { Module } from '@nestjs/common';
import { ScanSpool } from '../scans/spool/scan-spool';
import { IngestionsController } from './ingestions.controller';
import { IngestionsService } from './ingestions.service';

/** `POST /ingestions` and its progress; the job that follows runs in the workers (IngestionsWorkerModule). */
@Module({
  controllers: [IngestionsController],
  providers: [IngestionsService, ScanSpool],
})
export class IngestionsModule {}
