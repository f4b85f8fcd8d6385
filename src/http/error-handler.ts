import type { ErrorRequestHandler, Response } from 'express';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Writes an AppError as the JSON body every non-Slack route answers with. */
export function sendError(res: Response, error: AppError): void {
  res.status(error.httpStatus).json({ error: error.code, message: error.userMessage });
}

/**
 * The one place HTTP errors are translated. Body-parser failures keep their 4xx meaning, so a
 * client mistake never shows up as a 500; anything unexpected is logged with its cause.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const parserError = err as { type?: string; status?: number; limit?: number };
    let error: AppError;
    if (parserError.type === 'entity.too.large') {
      error = new AppError(
        'payload_too_large',
        `The body is larger than the ${parserError.limit ?? ''} byte limit.`,
      );
    } else if (parserError.type && parserError.status && parserError.status < 500) {
      error = new AppError('validation_failed', `The body could not be read: ${(err as Error).message}`);
    } else {
      error = toAppError(err);
    }
    if (error.httpStatus >= 500) {
      logger.error({ err, path: req.path, code: error.code }, 'request failed');
    }
    if (res.headersSent) return;
    sendError(res, error);
  };
}
