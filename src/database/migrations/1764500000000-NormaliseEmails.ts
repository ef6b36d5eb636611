import { MigrationInterface, QueryRunner } from 'typeorm';
import { domainToASCII } from 'node:url';

/**
 * Stored addresses in the one normal form of SECURITY.md 27 (NFKC, lower-case, ASCII
 * domain), so that sign-in, which looks up the normal form, still finds accounts made
 * before it. An address whose normal form another account already has is left as it is
 * (two look-alike accounts: an admin decides which stays) and named in the log.
 */
export class NormaliseEmails1764500000000 implements MigrationInterface {
  name = 'NormaliseEmails1764500000000';

  async up(q: QueryRunner): Promise<void> {
    const rows: { id: string; email: string }[] = await q.manager
      .createQueryBuilder()
      .select(['u.id AS id', 'u.email AS email'])
      .from('users', 'u')
      .getRawMany();
    const taken = new Set(rows.map((row) => row.email));
    for (const row of rows) {
      const normal = normaliseEmail(row.email);
      if (normal === row.email) continue;
      if (taken.has(normal)) {
        console.warn(`NormaliseEmails: user ${row.id} kept its address: another account has ${JSON.stringify(normal)}`);
        continue;
      }
      await q.manager
        .createQueryBuilder()
        .update('users')
        .set({ email: normal })
        .where('id = :id', { id: row.id })
        .execute();
      taken.delete(row.email);
      taken.add(normal);
    }
  }

  /** Nothing to undo: a normalised address is the same address, and the old form is not kept. */
  async down(): Promise<void> {}
}

/**
 * The normal form as of this migration (src/users/email-address.ts then): frozen here,
 * since a migration must do tomorrow what it did the day it was written, whatever the
 * app's rule becomes.
 */
function normaliseEmail(input: string): string {
  const text = String(input).normalize('NFKC').trim().toLowerCase();
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const domain = text.slice(at + 1);
  return text.slice(0, at + 1) + (domainToASCII(domain) || domain);
}
