import { Module } from '@nestjs/common';
import { FindingPartitionsService } from './finding-partitions.service';
import { FindingsDeletion } from './findings-deletion';

/**
 * The storage side of findings that background jobs need without the HTTP
 * side: partition upkeep and the batched deletion of a provider's rows.
 */
@Module({
  providers: [FindingPartitionsService, FindingsDeletion],
  exports: [FindingPartitionsService, FindingsDeletion],
})
export class FindingsStorageModule {}
