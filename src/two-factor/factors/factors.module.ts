import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AttemptsModule } from '../../attempts/attempts.module';
import { SecondFactorGate } from '../../auth/second-factor-gate';
import { RecoveryCode } from '../recovery-code.entity';
import { RecoveryCodesService } from '../recovery-codes.service';
import { TotpDevice } from '../totp-device.entity';
import { Passkey } from '../passkeys/passkey.entity';
import { PasskeyFactor } from '../passkeys/passkey.factor';
import { TotpFactor } from '../totp.factor';
import { SecondFactors } from './second-factors.service';

/**
 * The factor kinds and their registry. Global, because auth (below two-factor) asks it
 * through SecondFactorGate: the sign-in needs to know whether a second factor is owed.
 * A new kind is one folder with its FactorKind, registered in SecondFactors and here.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([TotpDevice, Passkey, RecoveryCode]), AttemptsModule],
  providers: [
    TotpFactor,
    PasskeyFactor,
    RecoveryCodesService,
    SecondFactors,
    { provide: SecondFactorGate, useExisting: SecondFactors },
  ],
  exports: [TotpFactor, PasskeyFactor, RecoveryCodesService, SecondFactors, SecondFactorGate],
})
export class FactorsModule {}
