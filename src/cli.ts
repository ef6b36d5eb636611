import 'reflect-metadata';
import { BadRequestException, ConflictException, INestApplicationContext, NotFoundException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { AppModule } from './app.module';
import { migrate } from './app.setup';
import { Clock, SystemClock } from './common/clock';
import { AppConfig, ConfigError } from './config/app-config';
import { type Message, messageParts } from './common/message';
import { Catalogue } from './i18n/catalogue';
import { MailQueued, MailService } from './mail/mail.service';
import { OutboxWorker } from './mail/outbox.worker';
import { OrganizersService } from './organizers/organizers.service';
import { TwoFactorAdminService } from './two-factor/two-factor-admin.service';
import { emailAddressProblem } from './users/email-address';
import { InvitationsService } from './users/invitations.service';
import { UsersService, WeakPasswordError } from './users/users.service';

const USAGE = [
  'Usage: npm run cli -- <command>',
  '  create-organizer --name NAME',
  '  create-admin --organizer NAME --email E --name N [--password P] [--no-2fa]',
  '  reset-2fa --email E',
].join('\n');

export interface CliOptions {
  /** The environment to read the configuration from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Where results go, one line at a time (default: stdout). */
  out?: (line: string) => void;
  /** Where the one line about a problem goes (default: stderr). */
  err?: (line: string) => void;
}

type Flags = Record<string, string | boolean | undefined>;

interface Command {
  flags: Record<string, { type: 'string' | 'boolean'; required?: boolean }>;
  run(app: INestApplicationContext, flags: Flags, out: (line: string) => void): Promise<void>;
}

/** Bad input the operator can fix: printed as one line, exit code 1. */
class CliError extends Error {}

/**
 * Control characters that would break a line on a terminal, or rewrite it: C0 (newline, ESC
 * that starts an ANSI sequence…), DEL, C1 (including the one-character CSI), the Unicode line
 * and paragraph separators, and the bidirectional overrides that reorder what is shown.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A line as printed: `\uXXXX` for each character that could break or rewrite it (JSON's escape,
 * also for those JSON.stringify leaves raw). Every line goes through it, so what a message
 * carries from elsewhere (parseArgs, a service, an error) cannot make it two lines either.
 */
function asOneLine(text: string): string {
  return text.replace(LINE_BREAKING, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Operator input as it is shown in a line: JSON-quoted, so a newline is `\n`, an ESC `\u001b`,
 * a quote `\"`, and the line stays one line that no input can forge or erase. The one way the
 * command line shows what it was given.
 */
function quoted(input: unknown): string {
  return asOneLine(JSON.stringify(String(input)));
}

const COMMANDS: Record<string, Command> = {
  'create-organizer': {
    flags: { name: { type: 'string', required: true } },
    async run(app, flags, out) {
      const organizer = await app.get(OrganizersService).create(flags.name as string);
      out(`Organizer ${quoted(organizer.name)} created.`);
    },
  },

  'create-admin': {
    flags: {
      organizer: { type: 'string', required: true },
      email: { type: 'string', required: true },
      name: { type: 'string', required: true },
      password: { type: 'string' },
      'no-2fa': { type: 'boolean' },
    },
    async run(app, flags, out) {
      const email = (flags.email as string).trim();
      const name = (flags.name as string).trim();
      const emailProblem = emailAddressProblem(email);
      if (emailProblem) throw new CliError(`Not a valid email address: ${quoted(email)}. ${english(emailProblem)}`);
      if (!name || name.length > 200) throw new CliError('The name must have 1 to 200 characters.');
      const organizer = await app.get(OrganizersService).findByName(flags.organizer as string);
      if (!organizer)
        throw new CliError(
          `Unknown organizer ${quoted(flags.organizer)}. Create it first with: npm run cli -- create-organizer --name ${quoted(flags.organizer)}`,
        );
      const twoFactorRequired = !flags['no-2fa'];
      const password = flags.password as string | undefined;
      const { user, link, mail } = await app
        .get(InvitationsService)
        .createAccount(
          { organizerId: organizer.id, email, name, role: 'admin', twoFactorRequired, password },
          null,
          null,
        );
      const twoFactor = twoFactorRequired ? '2FA on: set up at the first sign-in' : '2FA off';
      out(`Admin ${user.email} created in organizer ${quoted(organizer.name)} (${twoFactor}).`);
      if (link) {
        out(`Invitation link (works once, for 72 hours): ${link}`);
        if (mail)
          out(await delivery(app, mail, `The invitation email to ${user.email}`, 'give them the link yourself'));
      }
    },
  },

  'reset-2fa': {
    flags: { email: { type: 'string', required: true } },
    async run(app, flags, out) {
      const user = await app.get(UsersService).findByEmail(flags.email as string);
      if (!user) throw new CliError(`No account with the email ${quoted(flags.email)}.`);
      const { link, mail } = await app.get(TwoFactorAdminService).resendQr(user, null, null);
      out(
        `2FA reset for ${user.email}: the old authenticator and recovery codes no longer work, and every session ended.`,
      );
      out(
        await delivery(
          app,
          mail,
          `The email with a setup link (works once, for 24 hours) to ${user.email}`,
          `give them this link yourself: ${link}`,
        ),
      );
    },
  },
};

/**
 * What became of an email the command queued: the outbox is delivered before the command ends
 * (the CLI is one-shot), and the line says honestly whether the mail server took it.
 */
async function delivery(app: INestApplicationContext, mail: MailQueued, what: string, otherwise: string) {
  await app.get(OutboxWorker).drain();
  const message = await app.get(MailService).find(mail.id);
  if (message?.state === 'sent') return `${what} was sent.`;
  if (message?.state === 'queued')
    return `${what} could not be sent yet (${message.lastError ?? 'not tried'}); it stays in the outbox and a running app retries it from ${message.nextAttemptAt.toISOString()}, or ${otherwise}.`;
  return `${what} could not be sent (${message?.lastError ?? 'unknown'}); ${otherwise}.`;
}

/**
 * The command line (PRODUCT.md): runs one command on the app's services, in an
 * application context on the configured database (migrated first), and returns the
 * exit code. Bad input is one line on `err` and a non-zero code; nothing half-done.
 */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  const print = options.out ?? ((line: string) => console.log(line));
  const printProblem = options.err ?? ((line: string) => console.error(line));
  const out = (line: string) => print(asOneLine(line));
  const err = (line: string) => printProblem(asOneLine(line));

  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    err(
      name
        ? `Unknown command ${quoted(name)}. Commands: ${Object.keys(COMMANDS).join(', ')}.`
        : USAGE.split('\n')
            .map((line) => line.trim())
            .join(' | '),
    );
    return 2;
  }
  let flags: Flags;
  try {
    flags = parseFlags(name, command, rest);
  } catch (error) {
    err((error as Error).message);
    return 2;
  }

  let config: AppConfig;
  try {
    config = AppConfig.fromEnv(options.env ?? process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      err(`Configuration error: ${error.message}`);
      return 1;
    }
    throw error;
  }

  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(
      AppModule.forRoot({ config, clock: options.clock ?? new SystemClock() }),
      {
        logger: false,
        abortOnError: false,
      },
    );
    await migrate(app);
    await command.run(app, flags, out);
    return 0;
  } catch (error) {
    err(problemLine(error));
    return 1;
  } finally {
    await app?.close();
  }
}

/** `--flag value`, `--flag=value` and booleans; unknown, repeated or missing flags are refused. */
function parseFlags(name: string, command: Command, args: string[]): Flags {
  let values: Flags;
  try {
    values = parseArgs({ args, options: command.flags, strict: true, allowPositionals: false }).values as Flags;
  } catch (error) {
    const first = (error as Error).message.split(/\n|\. /)[0].replace(/\.$/, '');
    const missingValue = first.match(/^Option '(--[\w-]+)(?: <value>)?' argument (?:is ambiguous|missing)/);
    throw new CliError(`${missingValue ? `Missing value for ${missingValue[1]}` : first}. Usage: ${usageOf(name)}`);
  }
  for (const [flag, spec] of Object.entries(command.flags)) {
    const value = values[flag];
    if (spec.required && (typeof value !== 'string' || !value.trim()))
      throw new CliError(`Missing --${flag}. Usage: ${usageOf(name)}`);
  }
  return values;
}

function usageOf(name: string): string {
  return USAGE.split('\n')
    .find((line) => line.trim().startsWith(name))!
    .trim();
}

/** One line for the operator: our own refusals as they are, anything else prefixed. */
function problemLine(error: unknown): string {
  if (
    error instanceof CliError ||
    error instanceof ConflictException ||
    error instanceof NotFoundException ||
    error instanceof BadRequestException
  ) {
    // A refusal with values (MessageConflictException…) carries them as its userMessage.
    return english('userMessage' in error ? (error as { userMessage: Message }).userMessage : error.message);
  }
  if (error instanceof WeakPasswordError) return `Password refused: ${english(error.message)}`;
  const message = error instanceof Error ? error.message : String(error);
  return `Error: ${message.split('\n')[0]}`;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(asOneLine(`Error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`));
      process.exit(1);
    },
  );
}

let catalogue: Catalogue | undefined;

/** A refusal of the services is a message key (issue 17), maybe with values: the command line writes it in English. */
function english(message: Message): string {
  catalogue ??= Catalogue.load();
  const { key, values } = messageParts(message);
  return catalogue.has(key) ? catalogue.format('en', key, values) : key;
}
