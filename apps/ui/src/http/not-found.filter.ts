import { Catch, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { notFoundPage } from '../pages/layout.js';
import { UnknownRunError } from '../run-catalog.js';

/** An unknown run or path is a 404: a page for a browser, JSON under /api. Never a crash. */
@Catch(UnknownRunError, NotFoundException)
export class NotFoundFilter implements ExceptionFilter {
  catch(e: UnknownRunError | NotFoundException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const what = e instanceof UnknownRunError
      ? `There is no run '${e.runId}' in the sources this dashboard reads.`
      : `Nothing is served at ${req.path}.`;
    if (req.path.startsWith('/api/')) res.status(404).json({ statusCode: 404, message: what });
    else res.status(404).type('html').send(notFoundPage(what));
  }
}
