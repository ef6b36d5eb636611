import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software WebAuthn authenticator for e2e tests (no browser): it answers the JSON options of
 * navigator.credentials.create() / get() the way a platform authenticator and its browser would, with
 * real ES256 (P-256) keys, real CBOR and real signatures, so that @simplewebauthn/server verifies what it
 * produces exactly as it verifies a passkey.
 *
 *   const authenticator = new SoftAuthenticator();
 *   const registration = authenticator.register(await generateRegistrationOptions(…), 'http://localhost:3000');
 *   const assertion = authenticator.authenticate(await generateAuthenticationOptions(…), 'http://localhost:3000');
 */

export interface SoftAuthenticatorOptions {
  /** Whether the authenticator verifies its user (the UV flag). Default true. False answers without UV even when the options require it, so that a test can see the server refuse. */
  userVerification?: boolean;
  /** An authenticator without a signature counter: it always reports 0 (as many passkey providers do). */
  zeroCounter?: boolean;
}

export interface SoftCredential {
  /** Credential ID, base64url. */
  id: string;
  rpId: string;
  /** The user.id of the registration options (base64url): what a discoverable sign-in returns as userHandle. */
  userHandle: string;
  /** The signature counter as last reported (0 right after registration). */
  counter: number;
}

interface HeldCredential extends SoftCredential {
  privateKey: KeyObject;
}

/** Flags of the authenticator data (WebAuthn §6.1). */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

/** COSE algorithm ES256. */
const ES256 = -7;

/** 16 zero bytes: what a "none" attestation reports as AAGUID. */
const AAGUID = new Uint8Array(16);

const sha256 = (data: string | Uint8Array): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array): string => Buffer.from(data).toString('base64url');
/** A copy as a Uint8Array of this realm (Jest runs tests in their own realm; the CBOR encoder checks `instanceof Uint8Array`). */
const bytes = (data: Uint8Array): Uint8Array => new Uint8Array(data);

function signCount(counter: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(counter >>> 0);
  return buffer;
}

function hostOf(origin: string): string {
  return new URL(origin).hostname;
}

export class SoftAuthenticator {
  private readonly held: HeldCredential[] = [];
  private readonly userVerification: boolean;
  private readonly zeroCounter: boolean;

  constructor(options: SoftAuthenticatorOptions = {}) {
    this.userVerification = options.userVerification ?? true;
    this.zeroCounter = options.zeroCounter ?? false;
  }

  /** What it holds (copies): credential id (base64url), rpId, userHandle, current counter. */
  get credentials(): ReadonlyArray<SoftCredential> {
    return this.held.map(({ id, rpId, userHandle, counter }) => ({ id, rpId, userHandle, counter }));
  }

  /**
   * Answers the options of navigator.credentials.create() like a platform authenticator: a new
   * discoverable ES256 credential for options.rp.id (or the host of `origin`), attestation "none",
   * flags UP|UV|AT, counter 0. Throws if it holds a credential of options.excludeCredentials, or if
   * options.pubKeyCredParams does not allow ES256.
   */
  register(options: PublicKeyCredentialCreationOptionsJSON, origin: string): RegistrationResponseJSON {
    const rpId = options.rp.id ?? hostOf(origin);

    const excluded = new Set((options.excludeCredentials ?? []).map((descriptor) => descriptor.id));
    const already = this.held.find((credential) => excluded.has(credential.id));
    if (already) {
      throw new Error(`InvalidStateError: the authenticator already holds excluded credential ${already.id}`);
    }
    const algorithms = (options.pubKeyCredParams ?? []).map((param) => param.alg);
    if (algorithms.length > 0 && !algorithms.includes(ES256)) {
      throw new Error(`NotSupportedError: ES256 (-7) is not among pubKeyCredParams [${algorithms.join(', ')}]`);
    }

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cosePublicKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, ES256], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, bytes(Buffer.from(jwk.x as string, 'base64url'))],
        [-3, bytes(Buffer.from(jwk.y as string, 'base64url'))],
      ]),
    );

    const credentialId = randomBytes(32);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags() | AT]),
      signCount(0),
      AAGUID,
      idLength,
      credentialId,
      cosePublicKey,
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, never> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, never>()],
        ['authData', bytes(authData)],
      ]),
    );
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin,
      crossOrigin: false,
    });

    const id = b64url(credentialId);
    this.held.push({ id, rpId, userHandle: options.user.id, counter: 0, privateKey });

    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(Buffer.from(clientDataJSON, 'utf8')),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ['internal'],
        publicKeyAlgorithm: ES256,
        publicKey: b64url(publicKey.export({ type: 'spki', format: 'der' })),
      },
    };
  }

  /**
   * Answers the options of navigator.credentials.get(): signs with the first credential it holds for
   * options.rpId (or the host of `origin`) that is in options.allowCredentials, or, when that list is
   * empty, with the first it holds for that RP (discoverable sign-in; userHandle = the registration's
   * user.id). The counter goes up by 1 each time, unless zeroCounter.
   *
   * `override` forces what the response says: `counter` is reported as is (and the counter the
   * authenticator keeps is left alone, like a cloned authenticator's), `challenge` goes into
   * clientDataJSON instead of options.challenge, and `rpId` is hashed into the authenticator data
   * (the credential is still chosen by options.rpId). Throws when it holds no suitable credential.
   */
  authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin: string,
    override: { counter?: number; challenge?: string; rpId?: string } = {},
  ): AuthenticationResponseJSON {
    const rpId = options.rpId ?? hostOf(origin);
    const allowed = (options.allowCredentials ?? []).map((descriptor) => descriptor.id);
    const credential = this.held.find(
      (held) => held.rpId === rpId && (allowed.length === 0 || allowed.includes(held.id)),
    );
    if (!credential) {
      throw new Error(
        `NotAllowedError: no credential for ${rpId}` + (allowed.length ? ` among [${allowed.join(', ')}]` : ''),
      );
    }

    let counter: number;
    if (override.counter !== undefined) {
      counter = override.counter;
    } else {
      if (!this.zeroCounter) credential.counter += 1;
      counter = credential.counter;
    }

    const authData = Buffer.concat([sha256(override.rpId ?? rpId), Buffer.from([this.flags()]), signCount(counter)]);
    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: override.challenge ?? options.challenge,
        origin,
        crossOrigin: false,
      }),
      'utf8',
    );
    // ECDSA-SHA256, DER-encoded (node's default for EC keys), over authData ‖ SHA-256(clientDataJSON).
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);

    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
    };
  }

  private flags(): number {
    return UP | (this.userVerification ? UV : 0);
  }
}
