/**
 * The part of ua-parser-js 1.x (MIT; 2.x is AGPL) that session-client.ts uses. Version 1
 * ships no type declarations, and @types/ua-parser-js is not a dependency.
 */
declare module 'ua-parser-js' {
  export interface UAParserResult {
    browser: { name?: string; version?: string; major?: string };
    os: { name?: string; version?: string };
    device: { type?: string; vendor?: string; model?: string };
  }

  export class UAParser {
    constructor(userAgent?: string);
    getResult(): UAParserResult;
  }
}
