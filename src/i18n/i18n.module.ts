import { Global, Module } from '@nestjs/common';
import { Catalogue } from './catalogue';
import { I18n } from './i18n.service';

/** The messages of every language (locales/*.json), read once; a leaf like common, which every feature may use. */
@Global()
@Module({
  providers: [{ provide: Catalogue, useFactory: () => Catalogue.load() }, I18n],
  exports: [Catalogue, I18n],
})
export class I18nModule {}
