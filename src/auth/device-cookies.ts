import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { AppConfig } from '../config/app-config';

/** A browser remembers at most this many accounts that signed in on it. */
const MAX_ENTRIES = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): after a
 * sign-in, the browser gets a signed, long-lived cookie naming the account. Wrong passwords
 * from a browser that holds one for the account count for that browser alone; wrong
 * passwords from anywhere else count in the account's untrusted pool. Someone who knows an
 * email can lock the untrusted pool, never the owner's own browser.
 *
 * One cookie holds up to five entries `userId.issuedAt.deviceId.mac`, most recent first;
 * the MAC (HMAC-SHA-256 with a key derived for this purpose only) makes them unforgeable,
 * and an entry older than DEVICE_COOKIE_DAYS is ignored.
 */
@Injectable()
export class DeviceCookies {
  constructor(
    private readonly keys: KeyRing,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  get name(): string {
    return this.config.secureCookies ? '__Host-tixngo.device' : 'tixngo.device';
  }

  /** The device id this browser holds for the account, when its cookie entry is genuine and fresh. */
  deviceFor(req: Request, userId: string): string | null {
    return this.entries(req).find((entry) => entry.userId === userId)?.deviceId ?? null;
  }

  /** After a sign-in: a new entry for the account, first in the cookie. */
  issue(req: Request, res: Response, userId: string): void {
    const issuedAt = this.clock.nowMs();
    const deviceId = randomBytes(16).toString('base64url');
    const kept = this.entries(req)
      .filter((entry) => entry.userId !== userId)
      .slice(0, MAX_ENTRIES - 1);
    const value = [this.sign(userId, issuedAt, deviceId), ...kept.map((entry) => entry.raw)].join('~');
    res.cookie(this.name, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.secureCookies,
      path: '/',
      maxAge: this.config.limits.deviceCookieDays * DAY_MS,
    });
  }

  private entries(req: Request): { userId: string; deviceId: string; raw: string }[] {
    const value: unknown = req.cookies?.[this.name];
    if (typeof value !== 'string' || value.length > 2048) return [];
    const oldest = this.clock.nowMs() - this.config.limits.deviceCookieDays * DAY_MS;
    const entries: { userId: string; deviceId: string; raw: string }[] = [];
    for (const raw of value.split('~').slice(0, MAX_ENTRIES)) {
      const [userId, issuedAtText, deviceId, mac] = raw.split('.');
      if (!userId || !deviceId || !mac || !/^\d{1,15}$/.test(issuedAtText ?? '')) continue;
      const issuedAt = Number(issuedAtText);
      if (issuedAt < oldest || !this.macMatches(`${userId}.${issuedAt}.${deviceId}`, mac)) continue;
      entries.push({ userId, deviceId, raw });
    }
    return entries;
  }

  private sign(userId: string, issuedAt: number, deviceId: string): string {
    const body = `${userId}.${issuedAt}.${deviceId}`;
    return `${body}.${this.mac(body)}`;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.keys.key('device-cookie')).update(body).digest('base64url');
  }

  private macMatches(body: string, mac: string): boolean {
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
