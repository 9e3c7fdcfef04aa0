import { Controller, Delete, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UuidPipe } from '../common/http/request-params';
import { ProviderLifecycleService } from './provider-lifecycle.service';
import { TaskAccepted } from './task-accepted.decorator';

/** The two provider routes that answer with a task; the rest of /providers lives with the providers feature. */
@ApiTags('Provider')
@Controller('providers')
export class ProviderLifecycleController {
  constructor(private readonly lifecycle: ProviderLifecycleService) {}

  @Delete(':id')
  @TaskAccepted({ summary: 'Delete a provider: gone at once, its data removed by a deletion task', permissions: ['manage_providers'] })
  remove(@Param('id', UuidPipe) id: string) {
    return this.lifecycle.delete(id);
  }

  @Post(':id/connection')
  @TaskAccepted({ summary: "Check a provider's credentials in a task", permissions: ['manage_providers'] })
  checkConnection(@Param('id', UuidPipe) id: string) {
    return this.lifecycle.checkConnection(id);
  }
}
