import { IsOptional, IsString, MaxLength } from 'class-validator';

/** POST /account/language: the language chosen (checked against LANGUAGES by the controller) and the page to go back to. */
export class LanguageDto {
  @IsOptional()
  @IsString()
  @MaxLength(8)
  language?: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  next?: string;
}
