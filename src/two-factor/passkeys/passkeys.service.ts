import { Injectable, Logger } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Request } from 'express';
import { AttemptLimiter } from '../../attempts/attempt-limiter.service';
import { AuditService } from '../../audit/audit.service';
import { AuthSessionService } from '../../auth/auth-session.service';
import { ACCOUNT_LOCKED, loginRefusal } from '../../auth/local.strategy';
import { Clock } from '../../common/clock';
import { OrganizersService } from '../../organizers/organizers.service';
import { AppConfig } from '../../config/app-config';
import { isUniqueViolation } from '../../database/database-errors';
import { SecurityNoticesService } from '../../users/security-notices.service';
import { User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { codeLockedMessage } from '../code-messages';
import type { Message } from '../../common/message';
import { SecondFactors } from '../factors/second-factors.service';
import { RecoveryCodesService } from '../recovery-codes.service';
import { TwoFactorService } from '../two-factor.service';
import { Passkey } from './passkey.entity';
import { MAX_PASSKEYS, PasskeyFactor } from './passkey.factor';

export type PasskeyRegistration =
  | { ok: true; passkey: Passkey; recoveryCodes?: string[] }
  | { ok: false; message: Message; field: 'passkeyName' | 'passkey' };

export type PasskeyCheck = { ok: true } | { ok: false; reason: 'invalid' | 'locked'; message: Message; retryAt?: Date };

/** What a refused passkey is told (message keys). */
const MESSAGES = {
  ceremony: 'passkey.error.ceremony',
  expired: 'passkey.error.expired',
  unknown: 'passkey.error.unknown',
  cloned: 'passkey.error.cloned',
  duplicate: 'passkey.error.duplicate',
  tooMany: { key: 'passkey.error.tooMany', values: { max: MAX_PASSKEYS } },
  name: 'passkey.error.name',
  notAlone: 'passkey.error.notAlone',
  verification: 'passkey.error.verification',
  unusable: 'passkey.error.unusable',
} as const satisfies Record<string, Message>;

export type PasskeySignIn = { ok: true; user: User } | { ok: false; message: Message; status: 401 | 403 | 429 };

/**
 * Passkeys and security keys (WebAuthn, @simplewebauthn/server), SECURITY.md 29: the relying
 * party id and origin come from PUBLIC_URL only, never from the request; each challenge is
 * random, single use and kept in the session (it expires with the pending state); the
 * signature counter must go forward (zero-counter authenticators allowed), and one that goes
 * backwards is refused and audited; a credential belongs to one user; attestation `none`.
 */
@Injectable()
export class PasskeysService {
  private readonly logger = new Logger('Passkeys');

  constructor(
    private readonly passkeys: PasskeyFactor,
    private readonly factors: SecondFactors,
    private readonly twoFactor: TwoFactorService,
    private readonly recoveryCodes: RecoveryCodesService,
    private readonly users: UsersService,
    private readonly sessions: AuthSessionService,
    private readonly limiter: AttemptLimiter,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly organizers: OrganizersService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Whether the person has a passkey (the pages that offer one). */
  async hasPasskey(user: User): Promise<boolean> {
    return (await this.passkeys.count(user.id)) > 0;
  }

  /** The account page's list: name, when added, when last used. */
  async list(user: User) {
    const passkeys = await this.passkeys.of(user.id);
    return passkeys.map((passkey) => ({
      id: passkey.id,
      name: passkey.name,
      createdAt: passkey.createdAt,
      lastUsedAt: passkey.lastUsedAt,
    }));
  }

  /** Options for navigator.credentials.create(): a discoverable credential, user verification preferred, none of the user's own again. */
  async registrationOptions(req: Request, user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.passkeys.of(user.id);
    const options = await generateRegistrationOptions({
      rpName: this.config.appName,
      rpID: this.config.webauthn.rpId,
      userName: user.email,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId, transports: transportsOf(passkey) })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await this.sessions.stashWebauthnChallenge(req, 'register', options.challenge);
    return options;
  }

  /**
   * Verifies the browser's answer to the registration options and saves the passkey under the
   * name the person gave. A person who had no second factor gets their recovery codes too.
   */
  async register(
    req: Request,
    user: User,
    responseText: unknown,
    nameInput: unknown,
    ip: string | null,
  ): Promise<PasskeyRegistration> {
    const name = typeof nameInput === 'string' ? nameInput.normalize('NFC').trim() : '';
    // eslint-disable-next-line no-control-regex -- a name is shown on pages and in emails: no control characters
    if (!name || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name))
      return { ok: false, message: MESSAGES.name, field: 'passkeyName' };
    const response = parseResponse<RegistrationResponseJSON>(responseText);
    if (!response) return { ok: false, message: MESSAGES.ceremony, field: 'passkey' };
    const challenge = await this.sessions.takeWebauthnChallenge(req, 'register');
    if (!challenge) return { ok: false, message: MESSAGES.expired, field: 'passkey' };
    if ((await this.passkeys.count(user.id)) >= MAX_PASSKEYS)
      return { ok: false, message: MESSAGES.tooMany, field: 'passkey' };
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.config.webauthn.origin,
      expectedRPID: this.config.webauthn.rpId,
      requireUserVerification: false,
    }).catch((error: unknown) => {
      this.logger.warn(`Passkey registration refused: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    if (!verification?.verified) return { ok: false, message: MESSAGES.ceremony, field: 'passkey' };
    const { credential } = verification.registrationInfo;
    const hadFactor = await this.factors.hasConfirmed(user);
    let passkey: Passkey;
    try {
      passkey = await this.passkeys.add({
        userId: user.id,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: JSON.stringify(credential.transports ?? []),
        name,
        createdAt: this.clock.now(),
        lastUsedAt: null,
      });
    } catch (error) {
      if (isUniqueViolation(error)) return { ok: false, message: MESSAGES.duplicate, field: 'passkey' };
      throw error;
    }
    // Recovery codes follow the first factor, whichever kind it is.
    const recoveryCodes = hadFactor
      ? undefined
      : await this.users.transaction((manager) => this.recoveryCodes.regenerate(user.id, manager));
    await this.audit.record({
      type: 'passkey.added',
      organizerId: user.organizerId,
      userId: user.id,
      actorId: user.id,
      ip,
      detail: { passkeyId: passkey.id },
    });
    await this.notices.send(user, 'passkey.added', { passkeyName: name });
    return { ok: true, passkey, recoveryCodes };
  }

  /** Options for navigator.credentials.get() at the second step: the user's own credentials, user verification preferred. */
  async secondFactorOptions(req: Request, user: User): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const passkeys = await this.passkeys.of(user.id);
    const options = await generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      allowCredentials: passkeys.map((passkey) => ({ id: passkey.credentialId, transports: transportsOf(passkey) })),
      userVerification: 'preferred',
    });
    await this.sessions.stashWebauthnChallenge(req, 'sign-in', options.challenge);
    return options;
  }

  /**
   * A passkey as the second factor: reserved in the account's code pool like a code (a
   * failure counts toward the same lock), then verified against the user's own credentials.
   */
  async verifySecondFactor(req: Request, user: User, responseText: unknown, ip: string | null): Promise<PasskeyCheck> {
    // An answer that is no answer (a cancelled ceremony, a broken page) is refused before it counts, like a malformed code.
    const response = parseResponse<AuthenticationResponseJSON>(responseText);
    if (!response) return { ok: false, reason: 'invalid', message: MESSAGES.ceremony };
    const outcome = await this.twoFactor.secondFactorAttempt(
      user,
      ip,
      async () => {
        const reason = await this.check(req, user, response, ip);
        return { ok: reason === 'ok', reason };
      },
      () => ({ passkey: true }),
      'passkey',
    );
    if (outcome.ok) return { ok: true };
    if (outcome.reason === 'locked' && 'retryAt' in outcome) {
      return {
        ok: false,
        reason: 'locked',
        message: codeLockedMessage(outcome.retryAt, this.clock.nowMs()),
        retryAt: outcome.retryAt,
      };
    }
    return {
      ok: false,
      reason: 'invalid',
      message: MESSAGES[outcome.reason as keyof typeof MESSAGES] ?? MESSAGES.ceremony,
    };
  }

  /** Options for a sign-in with a passkey alone: any discoverable credential of this site, user verification required. */
  async signInOptions(req: Request): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      allowCredentials: [],
      userVerification: 'required',
    });
    await this.sessions.stashWebauthnChallenge(req, 'passkey-only', options.challenge);
    return options;
  }

  /**
   * Sign in with a passkey alone (issue 13): a discoverable credential with user verification
   * is both factors. The person is whoever the credential belongs to; their organizer must
   * allow it; a locked account or a locked second factor is refused as at the second step.
   * Attempts count for the client address like wrong passwords (SECURITY.md 26).
   */
  async signIn(req: Request, responseText: unknown, ip: string | null): Promise<PasskeySignIn> {
    let owner: User | null = null;
    const result = await this.limiter.guard([this.limiter.clientKey(ip)], async () => {
      const response = parseResponse<AuthenticationResponseJSON>(responseText);
      const challenge = await this.sessions.takeWebauthnChallenge(req, 'passkey-only');
      if (!response) return { ok: false, value: 'ceremony' as const };
      if (!challenge) return { ok: false, value: 'expired' as const };
      const passkey = await this.passkeys.byCredentialId(response.id);
      const user = passkey ? await this.users.findById(passkey.userId) : null;
      if (!passkey || !user || !user.isActive) return { ok: false, value: 'unusable' as const };
      owner = user;
      const organizer = await this.organizers.getById(user.organizerId);
      if (!organizer.allowPasskeySignIn) return { ok: false, value: 'notAlone' as const };
      const outcome = await this.verifyAssertion(response, challenge, passkey, user, ip, true);
      return outcome === 'ok' ? { ok: true, value: 'ok' as const } : { ok: false, value: outcome };
    });
    if (!result.checked) {
      const refusal = loginRefusal(
        { ok: false, reason: 'client-locked', retryAt: result.retryAt },
        this.clock.nowMs(),
        '',
      );
      return { ok: false, status: 429, message: refusal.message };
    }
    const user = owner as User | null;
    if (result.ok && user) {
      if (user.accountLockedAt) return { ok: false, status: 403, message: ACCOUNT_LOCKED };
      if (await this.limiter.lockedUntil(this.limiter.codeKey(user.id))) {
        return {
          ok: false,
          status: 429,
          message: 'passkey.error.secondFactorLocked',
        };
      }
      return { ok: true, user };
    }
    const reason = result.value === 'ok' ? 'ceremony' : result.value;
    if (user) {
      await this.audit.record({
        type: 'login.passkey_failed',
        organizerId: user.organizerId,
        userId: user.id,
        ip,
        detail: { reason },
      });
    }
    return { ok: false, status: reason === 'notAlone' ? 403 : 401, message: MESSAGES[reason] };
  }

  /** Removes one of the person's passkeys; refused for the last factor while 2FA is required of them. */
  async remove(
    user: User,
    id: unknown,
    ip: string | null,
  ): Promise<{ ok: true; name: string } | { ok: false; message: string }> {
    if (typeof id !== 'string' || id.length > 36) return { ok: false, message: 'passkey.error.noSuch' };
    const passkeys = await this.passkeys.of(user.id);
    const target = passkeys.find((passkey) => passkey.id === id);
    if (!target) return { ok: false, message: 'passkey.error.noSuch' };
    if (passkeys.length === 1 && (await this.factors.isLastFactorRequired(user, 'passkey'))) {
      return {
        ok: false,
        message: 'passkey.error.lastFactor',
      };
    }
    await this.passkeys.remove(user.id, id);
    await this.audit.record({
      type: 'passkey.removed',
      organizerId: user.organizerId,
      userId: user.id,
      actorId: user.id,
      ip,
      detail: { passkeyId: id },
    });
    await this.notices.send(user, 'passkey.removed', { passkeyName: target.name });
    return { ok: true, name: target.name };
  }

  /** `ok`, or the MESSAGES key of why not. */
  private async check(
    req: Request,
    user: User,
    response: AuthenticationResponseJSON,
    ip: string | null,
  ): Promise<keyof typeof MESSAGES | 'ok'> {
    const challenge = await this.sessions.takeWebauthnChallenge(req, 'sign-in');
    if (!challenge) return 'expired';
    const passkey = await this.passkeys.byCredentialId(response.id);
    if (!passkey || passkey.userId !== user.id) return 'unknown';
    return this.verifyAssertion(response, challenge, passkey, user, ip, false);
  }

  /** Verifies an assertion against the stored credential; the counter must move forward, and moves once. */
  private async verifyAssertion(
    response: AuthenticationResponseJSON,
    challenge: string,
    passkey: Passkey,
    user: User,
    ip: string | null,
    requireUserVerification: boolean,
  ): Promise<keyof typeof MESSAGES | 'ok'> {
    if (response.response.userHandle && response.response.userHandle !== Buffer.from(user.id).toString('base64url')) {
      return 'unknown';
    }
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.config.webauthn.origin,
      expectedRPID: this.config.webauthn.rpId,
      credential: {
        id: passkey.credentialId,
        publicKey: Buffer.from(passkey.publicKey, 'base64url'),
        counter: passkey.counter,
        transports: transportsOf(passkey),
      },
      requireUserVerification,
    }).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Passkey assertion refused: ${message}`);
      if (message.includes('counter')) return 'cloned' as const;
      if (/user verif/i.test(message)) return 'verification' as const;
      return null;
    });
    if (verification === 'verification') return 'verification';
    if (verification === 'cloned') {
      await this.audit.record({
        type: 'passkey.counter_rejected',
        organizerId: user.organizerId,
        userId: user.id,
        ip,
        detail: { passkeyId: passkey.id },
      });
      return 'cloned';
    }
    if (!verification?.verified) return 'ceremony';
    // The counter moves once: of two requests with one assertion, one wins.
    if (!(await this.passkeys.used(passkey, verification.authenticationInfo.newCounter, this.clock.now())))
      return 'expired';
    return 'ok';
  }
}

function transportsOf(passkey: Passkey): AuthenticatorTransport[] {
  try {
    const parsed = JSON.parse(passkey.transports) as unknown;
    return Array.isArray(parsed) ? (parsed.filter((t) => typeof t === 'string') as AuthenticatorTransport[]) : [];
  } catch {
    return [];
  }
}

/** The browser's answer, posted as JSON in a form field; anything else is no answer. */
function parseResponse<T extends { id: string; response: object }>(text: unknown): T | null {
  if (typeof text !== 'string' || !text || text.length > 64 * 1024) return null;
  try {
    const value = JSON.parse(text) as T;
    return value &&
      typeof value === 'object' &&
      typeof value.id === 'string' &&
      value.response &&
      typeof value.response === 'object'
      ? value
      : null;
  } catch {
    return null;
  }
}
