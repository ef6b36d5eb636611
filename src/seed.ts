import { INestApplicationContext } from '@nestjs/common';
import { OrganizersService } from './organizers/organizers.service';
import { UsersService } from './users/users.service';

export const DEMO = { organizer: 'TIXNGO', email: 'sample@tixngo.io', password: 'Abcd!12345678', name: 'Sample Admin' };

/** On an empty database outside production: the demo organizer and its admin (2FA on, not set up). */
export async function seedDemoData(app: INestApplicationContext): Promise<boolean> {
  const organizers = app.get(OrganizersService);
  if ((await organizers.count()) > 0) return false;
  const organizer = await organizers.create(DEMO.organizer);
  await app.get(UsersService).create({
    organizerId: organizer.id,
    email: DEMO.email,
    name: DEMO.name,
    role: 'admin',
    twoFactorRequired: true,
    password: DEMO.password,
  });
  return true;
}
