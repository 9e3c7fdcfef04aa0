import { Global, Module } from '@nestjs/common';
import { PrincipalLoader } from './principal-loader';

@Global()
@Module({
  providers: [PrincipalLoader],
  exports: [PrincipalLoader],
})
export class RbacModule {}
