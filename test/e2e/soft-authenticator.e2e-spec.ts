import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { SoftAuthenticator } from '../utils/soft-authenticator';

/** The test authenticator against the real @simplewebauthn/server, so that tests built on it test the app, not it. */

const rpID = 'localhost';
const origin = 'http://localhost:3000';
const userID = new TextEncoder().encode('user-42');

async function registrationOptions(excludeCredentials: { id: string }[] = []) {
  return generateRegistrationOptions({
    rpID,
    rpName: 'TIXNGO Backoffice',
    userName: 'ada@example.test',
    userID,
    excludeCredentials,
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

/** Registers a new passkey on `authenticator` and returns it as the server would store it. */
async function registerOn(authenticator: SoftAuthenticator): Promise<WebAuthnCredential> {
  const options = await registrationOptions();
  const response = authenticator.register(options, origin);
  const { verified, registrationInfo } = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: true,
  });
  expect(verified).toBe(true);
  return registrationInfo!.credential;
}

async function signIn(
  authenticator: SoftAuthenticator,
  credential: WebAuthnCredential,
  { from = origin, override = {} }: { from?: string; override?: Parameters<SoftAuthenticator['authenticate']>[2] } = {},
) {
  const options = await generateAuthenticationOptions({ rpID, allowCredentials: [], userVerification: 'required' });
  const response = authenticator.authenticate(options, from, override);
  const result = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential,
    requireUserVerification: true,
  });
  return { response, result };
}

describe('SoftAuthenticator', () => {
  it('registers a discoverable ES256 passkey that verifyRegistrationResponse accepts', async () => {
    const authenticator = new SoftAuthenticator();
    const options = await registrationOptions();
    const response = authenticator.register(options, origin);

    expect(response).toMatchObject({
      rawId: response.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { transports: ['internal'], publicKeyAlgorithm: -7 },
    });
    for (const value of [response.id, response.response.clientDataJSON, response.response.attestationObject]) {
      expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString())).toEqual({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin,
      crossOrigin: false,
    });
    const attestation = isoCBOR.decodeFirst<Map<string, unknown>>(
      new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url')),
    );
    expect([...attestation.keys()]).toEqual(['fmt', 'attStmt', 'authData']);
    expect(attestation.get('fmt')).toBe('none');
    expect((attestation.get('attStmt') as Map<string, unknown>).size).toBe(0);

    const { verified, registrationInfo } = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
    });
    expect(verified).toBe(true);
    expect(registrationInfo).toMatchObject({
      fmt: 'none',
      aaguid: '00000000-0000-0000-0000-000000000000',
      userVerified: true,
      origin,
      rpID,
      credential: { id: response.id, counter: 0, transports: ['internal'] },
    });
    expect(authenticator.credentials).toEqual([
      { id: response.id, rpId: rpID, userHandle: options.user.id, counter: 0 },
    ]);
  });

  it('signs in without allowCredentials (discoverable), with counter 1 and the user handle of the registration', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registerOn(authenticator);

    const { response, result } = await signIn(authenticator, credential);
    expect(result.verified).toBe(true);
    expect(result.authenticationInfo).toMatchObject({ newCounter: 1, credentialID: credential.id, userVerified: true });
    expect(response.response.userHandle).toBe(Buffer.from(userID).toString('base64url'));
    expect(authenticator.credentials[0].counter).toBe(1);

    const second = await signIn(authenticator, { ...credential, counter: 1 });
    expect(second.result).toMatchObject({ verified: true, authenticationInfo: { newCounter: 2 } });
  });

  it('signs with the credential named in allowCredentials', async () => {
    const authenticator = new SoftAuthenticator();
    const first = await registerOn(authenticator);
    const credential = await registerOn(authenticator);
    const options = await generateAuthenticationOptions({
      rpID,
      allowCredentials: [{ id: credential.id }],
      userVerification: 'required',
    });
    const response = authenticator.authenticate(options, origin);
    expect(response.id).toBe(credential.id);
    expect(response.id).not.toBe(first.id);
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential,
      requireUserVerification: true,
    });
    expect(result).toMatchObject({ verified: true, authenticationInfo: { newCounter: 1 } });
  });

  it('the signature is really checked: authenticator data changed after signing does not verify', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registerOn(authenticator);
    const options = await generateAuthenticationOptions({ rpID, allowCredentials: [], userVerification: 'required' });
    const response = authenticator.authenticate(options, origin);
    const authData = Buffer.from(response.response.authenticatorData, 'base64url');
    authData[authData.length - 1] += 1; // counter 1 → 2
    response.response.authenticatorData = authData.toString('base64url');
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential,
      requireUserVerification: true,
    });
    expect(result.verified).toBe(false);
  });

  it('a forced counter that goes backwards (0 after 1) is refused', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registerOn(authenticator);
    const { result } = await signIn(authenticator, credential);
    expect(result.authenticationInfo.newCounter).toBe(1);

    await expect(
      signIn(
        authenticator,
        { ...credential, counter: result.authenticationInfo.newCounter },
        { override: { counter: 0 } },
      ),
    ).rejects.toThrow(/counter value 0 was lower than expected 1/);
  });

  it('a response from another origin is refused', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registerOn(authenticator);
    await expect(signIn(authenticator, credential, { from: 'https://evil.example' })).rejects.toThrow(/origin/);
  });

  it('a different challenge or RP ID is refused', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registerOn(authenticator);
    await expect(signIn(authenticator, credential, { override: { challenge: 'c3RhbGU' } })).rejects.toThrow(
      /challenge/,
    );
    await expect(signIn(authenticator, credential, { override: { rpId: 'evil.example' } })).rejects.toThrow(/RP ID/);
  });

  it('a zeroCounter authenticator verifies twice with counter 0', async () => {
    const authenticator = new SoftAuthenticator({ zeroCounter: true });
    const credential = await registerOn(authenticator);
    for (let i = 0; i < 2; i++) {
      const { result } = await signIn(authenticator, credential);
      expect(result).toMatchObject({ verified: true, authenticationInfo: { newCounter: 0 } });
    }
    expect(authenticator.credentials[0].counter).toBe(0);
  });

  it('without user verification, a server that requires it refuses', async () => {
    const authenticator = new SoftAuthenticator({ userVerification: false });
    const options = await registrationOptions();
    const response = authenticator.register(options, origin);
    await expect(
      verifyRegistrationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        requireUserVerification: true,
      }),
    ).rejects.toThrow(/User verification was required/);
  });

  it('refuses to register again when it holds an excluded credential, and to sign in without a credential', async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await registerOn(authenticator);
    const options = await registrationOptions([{ id: credential.id }]);
    expect(() => authenticator.register(options, origin)).toThrow(/InvalidStateError/);
    expect(authenticator.credentials).toHaveLength(1);

    const request = await generateAuthenticationOptions({ rpID, allowCredentials: [], userVerification: 'required' });
    expect(() => new SoftAuthenticator().authenticate(request, origin)).toThrow(/NotAllowedError/);
  });
});
