import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Organizer } from './organizer.entity';
import { OrganizerTimeZoneLayout } from './organizer-time-zone.layout';
import { OrganizersService } from './organizers.service';

@Module({
  imports: [TypeOrmModule.forFeature([Organizer])],
  providers: [OrganizersService, OrganizerTimeZoneLayout],
  exports: [OrganizersService],
})
export class OrganizersModule {}
