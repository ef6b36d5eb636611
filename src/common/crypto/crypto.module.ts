import { Global, Module } from '@nestjs/common';
import { KeyRing } from './key-ring';

@Global()
@Module({ providers: [KeyRing], exports: [KeyRing] })
export class CryptoModule {}
