import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiController } from './http/api.controller.js';
import { NotFoundFilter } from './http/not-found.filter.js';
import { PagesController } from './http/pages.controller.js';
import { UI_SOURCES, type UiSources } from './http/tokens.js';
import { RunCatalog } from './run-catalog.js';

/** The dashboard: its pages, its JSON, and the run catalog they read. */
@Module({})
export class UiModule {
  static forRoot(catalog: RunCatalog, sources: UiSources): DynamicModule {
    return {
      module: UiModule,
      controllers: [PagesController, ApiController],
      providers: [
        { provide: RunCatalog, useValue: catalog },
        { provide: UI_SOURCES, useValue: sources },
        { provide: APP_FILTER, useClass: NotFoundFilter },
      ],
    };
  }
}
