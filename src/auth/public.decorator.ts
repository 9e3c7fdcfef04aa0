import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'is_public';

/** Marks an endpoint that needs no access token (sign-up, sign-in, health). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
