import { HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { describeEvent } from '../audit/security-events';
import { AuditService } from '../audit/audit.service';
import { AuthSessionService } from '../auth/auth-session.service';
import { LoginService } from '../auth/login.service';
import { loginRefusal } from '../auth/local.strategy';
import { Clock } from '../common/clock';
import { FormException } from '../common/exceptions';
import { SecurityNoticesService } from '../users/security-notices.service';
import { RecoveryCodesService } from '../two-factor/recovery-codes.service';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { MAX_PASSKEYS } from '../two-factor/passkeys/passkey.factor';
import { PasskeysService } from '../two-factor/passkeys/passkeys.service';
import { TWO_FACTOR_STATE_WORDS } from '../two-factor/factors/two-factor-state';
import type { Message } from '../common/message';
import { LANGUAGE_NAMES, LANGUAGES } from '../i18n/languages';
import { currentLanguage } from '../i18n/request-locale';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { User } from '../users/user.entity';
import { UsersService, WeakPasswordError } from '../users/users.service';
import { ChangePasswordDto } from './dto/change-password.dto';

/** Self-service for every signed-in user: password, recovery codes, a new authenticator. */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UsersService,
    private readonly login: LoginService,
    private readonly sessions: AuthSessionService,
    private readonly twoFactor: TwoFactorService,
    private readonly factors: SecondFactors,
    private readonly passkeys: PasskeysService,
    private readonly recoveryCodes: RecoveryCodesService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly clock: Clock,
  ) {}

  async page(user: User) {
    const [events, state, confirmed, passkeys] = await Promise.all([
      this.audit.recentForUser(user.id, 20),
      this.factors.state(user),
      this.factors.hasConfirmed(user),
      this.passkeys.list(user),
    ]);
    return {
      title: 'layout.yourAccount',
      name: user.name,
      email: user.email,
      role: user.role === 'admin' ? 'role.admin' : 'role.member',
      twoFactorState: TWO_FACTOR_STATE_WORDS[state],
      twoFactorActive: confirmed,
      recoveryCodesLeft: confirmed ? await this.recoveryCodes.remaining(user.id) : undefined,
      passkeys,
      maxPasskeys: MAX_PASSKEYS,
      canAddPasskey: passkeys.length < MAX_PASSKEYS,
      passkeyScripts: true,
      events: events.map((event) => describeEvent(event)),
      // The language setting: the five endonyms, the page's language chosen (the saved one, or what the page speaks).
      languages: LANGUAGES.map((code) => ({ code, name: LANGUAGE_NAMES[code], current: code === currentLanguage() })),
    };
  }

  /**
   * Changes the password: the current one is required (and counts toward the lock like a
   * login), the new one follows the policy, and every other session of the user ends.
   * Returns the new security stamp for the current session to keep.
   */
  async changePassword(user: User, body: unknown, req: Request): Promise<string> {
    const ip = req.ip ?? null;
    const model = await this.page(user);
    const fail = (errors: Record<string, Message>, status = HttpStatus.BAD_REQUEST) =>
      new FormException('account/index', model, errors, status);
    const dto = plainToInstance(ChangePasswordDto, body ?? {});
    const problems = await validate(dto, { whitelist: true, stopAtFirstError: true });
    if (problems.length) {
      throw fail(
        Object.fromEntries(
          problems.map((p) => [p.property, Object.values(p.constraints ?? {})[0] ?? 'account.password.checkField']),
        ),
      );
    }
    const check = await this.login.confirmPassword(user, dto.currentPassword, req);
    if (!check.ok) {
      const refusal = loginRefusal(check, this.clock.nowMs(), 'account.password.wrongCurrent');
      throw fail({ currentPassword: refusal.message }, refusal.status);
    }
    if (dto.newPassword !== dto.confirmPassword) throw fail({ confirmPassword: 'account.password.noMatch' });
    if (dto.newPassword === dto.currentPassword) throw fail({ newPassword: 'account.password.sameAsCurrent' });
    try {
      await this.users.setPassword(user, dto.newPassword);
    } catch (error) {
      if (error instanceof WeakPasswordError) throw fail({ newPassword: error.message });
      throw error;
    }
    const stamp = await this.sessions.endAllForUser(user.id);
    await this.audit.record({
      type: 'password.changed',
      organizerId: user.organizerId,
      userId: user.id,
      actorId: user.id,
      ip,
    });
    await this.notices.send(user, 'password.changed');
    return stamp;
  }

  /** New recovery codes (the old ones stop working), only after a fresh second factor. */
  async regenerateRecoveryCodes(user: User, ip: string | null): Promise<string[]> {
    const codes = await this.users.transaction(async (manager) => {
      const fresh = await this.recoveryCodes.regenerate(user.id, manager);
      await this.audit.record(
        { type: 'recovery_codes.regenerated', organizerId: user.organizerId, userId: user.id, actorId: user.id, ip },
        manager,
      );
      return fresh;
    });
    return codes;
  }

  /** Starts replacing the authenticator: a new unconfirmed secret; the current one works until the new one is confirmed. */
  async startNewAuthenticator(user: User): Promise<void> {
    await this.twoFactor.discardPendingSecret(user);
  }
}
