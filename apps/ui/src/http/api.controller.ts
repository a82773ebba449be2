import { BadRequestException, Controller, Get, Header, Inject, Param, Query, Res, Sse, type MessageEvent } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';
import { DIAGRAM_FORMATS, draw, isDiagramFormat, leftOut } from '../../../../libs/diagram/src/index.js';
import { diffRuns } from '../../../../libs/engine/src/index.js';
import { RunCatalog, summaryOf } from '../run-catalog.js';
import { diagramOf } from '../run-diagram.js';
import { runSummaryHtml } from '../pages/run-page.js';
import { stateAt } from '../state-view.js';
import { optionalInt } from './params.js';

/** How often a followed run's log is read for new entries. */
export const FOLLOW_POLL_MS = 200;

/** JSON for everything the pages show, and the live follow (server-sent events). */
@Controller('api')
export class ApiController {
  constructor(@Inject(RunCatalog) private readonly runs: RunCatalog) {}

  @Get('runs')
  async list() {
    return { runs: await this.runs.list(), skipped: this.runs.skipped };
  }

  @Get('runs/:id')
  async run(@Param('id') id: string) {
    const run = await this.runs.open(id);
    return { summary: summaryOf(run), meta: run.meta, origin: run.origin, report: run.report };
  }

  @Get('runs/:id/entries')
  async entries(@Param('id') id: string, @Query('from') from?: string, @Query('to') to?: string) {
    const run = await this.runs.open(id);
    const lo = optionalInt('from', from) ?? 1;
    const hi = optionalInt('to', to) ?? run.entries.length;
    return run.entries.filter((e) => e.seq >= lo && e.seq <= hi);
  }

  @Get('runs/:id/state')
  async state(@Param('id') id: string, @Query('seq') seq?: string) {
    const run = await this.runs.open(id);
    const at = optionalInt('seq', seq) ?? run.entries.length;
    if (at < 0 || at > run.entries.length) throw new BadRequestException(`seq ${at} is outside the run (1-${run.entries.length})`);
    return stateAt(run.entries, at);
  }

  /** The run's summary section as the run page renders it: the live follow swaps it in when the run ends. */
  @Get('runs/:id/summary.html')
  @Header('content-type', 'text/html; charset=utf-8')
  async summaryHtml(@Param('id') id: string) {
    return runSummaryHtml(await this.runs.open(id));
  }

  @Get('runs/:id/diagram')
  async diagram(@Param('id') id: string, @Res({ passthrough: true }) res: Response, @Query('format') format = 'svg', @Query('around') around?: string, @Query('from') from?: string, @Query('to') to?: string, @Query('max') max?: string) {
    if (!isDiagramFormat(format)) throw new BadRequestException(`format must be one of ${Object.keys(DIAGRAM_FORMATS).join(', ')}`);
    const run = await this.runs.open(id);
    const d = diagramOf(run, { around: optionalInt('around', around), from: optionalInt('from', from), to: optionalInt('to', to), max: optionalInt('max', max) });
    res.setHeader('content-type', `${DIAGRAM_FORMATS[format]}; charset=utf-8`);
    res.setHeader('x-diagram-window', leftOut(d));
    return draw(d, format);
  }

  @Get('diff')
  async diff(@Query('a') a?: string, @Query('b') b?: string) {
    if (!a || !b) throw new BadRequestException('give two runs: /api/diff?a=RUN&b=RUN');
    return diffRuns((await this.runs.open(a)).entries, (await this.runs.open(b)).entries);
  }

  /**
   * A run followed as it is written: `entries` events with what was appended after `after`, then one
   * `end` event with the run's summary once its meta says it ended and every entry was sent.
   */
  @Sse('runs/:id/follow')
  async follow(@Param('id') id: string, @Query('after') after?: string): Promise<Observable<MessageEvent>> {
    await this.runs.open(id);
    let last = optionalInt('after', after) ?? 0;
    return new Observable<MessageEvent>((sub) => {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const poll = async () => {
        try {
          const { entries, ended } = await this.runs.since(id, last);
          if (stopped) return;
          if (entries.length) {
            last = entries[entries.length - 1]!.seq;
            sub.next({ type: 'entries', data: { last, entries } });
          }
          if (ended) {
            sub.next({ type: 'end', data: summaryOf(await this.runs.open(id)) });
            sub.complete();
            return;
          }
          timer = setTimeout(poll, FOLLOW_POLL_MS);
        } catch (e) {
          sub.next({ type: 'trouble', data: { message: (e as Error).message } });
          timer = setTimeout(poll, FOLLOW_POLL_MS * 5);
        }
      };
      void poll();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    });
  }
}
