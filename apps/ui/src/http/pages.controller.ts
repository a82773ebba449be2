import { Controller, Get, Header, Inject, Param, Query } from '@nestjs/common';
import { diffRuns } from '../../../../libs/engine/src/index.js';
import { diffPage } from '../pages/diff-page.js';
import { runListPage } from '../pages/run-list.js';
import { runPage } from '../pages/run-page.js';
import { RunCatalog } from '../run-catalog.js';
import { UI_SOURCES, type UiSources } from './tokens.js';

const HTML = 'text/html; charset=utf-8';

/** The dashboard's pages (HTML rendered on the server; every run's text escaped). */
@Controller()
export class PagesController {
  constructor(
    @Inject(RunCatalog) private readonly runs: RunCatalog,
    @Inject(UI_SOURCES) private readonly sources: UiSources,
  ) {}

  @Get()
  @Header('content-type', HTML)
  async list(@Query('q') q?: string, @Query('verdict') verdict?: string): Promise<string> {
    const v = verdict === 'pass' || verdict === 'fail' || verdict === 'running' ? verdict : undefined;
    return runListPage(await this.runs.list(), { q: typeof q === 'string' ? q : undefined, verdict: v }, this.sources.describe, this.runs.skipped);
  }

  @Get('runs/:id')
  @Header('content-type', HTML)
  async run(@Param('id') id: string, @Query('seq') seq?: string): Promise<string> {
    // a page is forgiving: a seq that is not a number, or not in the run, opens on the default cursor
    const n = Number(seq);
    return runPage(await this.runs.open(id), seq && Number.isSafeInteger(n) ? n : undefined);
  }

  @Get('diff')
  @Header('content-type', HTML)
  async diff(@Query('a') a?: string, @Query('b') b?: string): Promise<string> {
    const list = await this.runs.list();
    if (!a || !b) return diffPage(list);
    const [ra, rb] = [await this.runs.open(a), await this.runs.open(b)];
    return diffPage(list, { a: ra, b: rb, diff: diffRuns(ra.entries, rb.entries) });
  }
}
