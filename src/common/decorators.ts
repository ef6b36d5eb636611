import { applyDecorators, Header, SetMetadata, Type } from '@nestjs/common';

export const ACCESS_KEY = 'access';
/** Who may reach a route. The default, with no decorator, is a fully signed-in user. */
export type Access = 'public' | 'pending' | 'pending-only';

/** Anyone, signed in or not (login, invitation and reset links, health). */
export const Public = () => SetMetadata(ACCESS_KEY, 'public' satisfies Access);
/** A session that has passed the password but still owes the second factor (the 2FA pages, logout). */
export const AllowPending = () => SetMetadata(ACCESS_KEY, 'pending' satisfies Access);
/** Only a pending session (the steps of the second factor at sign-in); a fully signed-in one goes to the dashboard. */
export const PendingOnly = () => SetMetadata(ACCESS_KEY, 'pending-only' satisfies Access);

/**
 * A page reached through an emailed link whose address holds its secret token (invitation,
 * Resend QR, password reset, "This wasn't me"): public, and it never sends its address in a
 * Referer, not even to this site's own assets.
 */
export const EmailedLinkPage = () => applyDecorators(Public(), Header('Referrer-Policy', 'no-referrer'));

export const PASSKEY_SETUP_KEY = 'passkeySetup';
/**
 * Routes open to an admin who owes a passkey (their organizer requires one and the deadline
 * passed): where they add it. Every other page sends them there.
 */
export const OpenWhilePasskeyOwed = () => SetMetadata(PASSKEY_SETUP_KEY, true);

export const FORM_VIEW_KEY = 'formView';
/** A form's view and the DTO that declares its fields. */
export interface FormViewMetadata {
  view: string;
  form: Type<object>;
}
/**
 * The view a handler's form comes from, and its DTO: when the DTO fails validation, the
 * filter renders the view again with the messages next to the fields and, under `input`,
 * what was typed in the DTO's fields only (SECURITY.md 23: nothing else from the body).
 */
export const FormView = (view: string, form: Type<object>) =>
  SetMetadata(FORM_VIEW_KEY, { view, form } satisfies FormViewMetadata);
