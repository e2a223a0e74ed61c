// What a failed request means to a customer, in their language: the kinds api.js gives
// errors (busy, unavailable, offline, invalid, a server error) as sentences.

import { ApiError } from './api.js';
import { labelsFor } from './i18n.js';

export function explain(error, contact, t = labelsFor('en')) {
  if (!(error instanceof ApiError)) return t.errGeneric;
  switch (error.kind) {
    case 'busy':
      return t.errBusy({ seconds: error.retryAfter || 5 });
    case 'unavailable':
      return t.errUnavailable;
    case 'network':
      return t.errOffline;
    case 'invalid':
      return t.errInvalid({ problem: error.message });
    default:
      return t.errServer({ contact });
  }
}
