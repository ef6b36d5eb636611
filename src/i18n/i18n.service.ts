import { Injectable } from '@nestjs/common';
import { Catalogue, MessageValues } from './catalogue';
import { Language } from './languages';
import { currentLanguage } from './request-locale';

/** The messages, for code that must write text itself (emails' subjects, CSV headers, the command line). */
@Injectable()
export class I18n {
  constructor(readonly catalogue: Catalogue) {}

  /** The message in `language`, by default the language of the request being answered. */
  t(key: string, values?: MessageValues, language: Language = currentLanguage()): string {
    return this.catalogue.format(language, key, values);
  }
}
