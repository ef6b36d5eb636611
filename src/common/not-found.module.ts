import { Controller, Get, Module, NotFoundException } from '@nestjs/common';
import { Public } from './decorators';

/**
 * Any other page address: a 404 that still goes through the global guard, so a signed-in
 * person keeps their name and menu in the header (an unmatched route would skip it).
 * Its module is imported last, so its route is registered after every other one.
 */
@Controller()
class NotFoundController {
  @Public()
  @Get('*path')
  notFound(): never {
    throw new NotFoundException();
  }
}

@Module({ controllers: [NotFoundController] })
export class NotFoundModule {}
