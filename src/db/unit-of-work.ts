import type { Knex } from 'knex';
import type { Stores, UnitOfWork } from '../incidents/ports.js';
import { lockedTransaction } from './locked-transaction.js';
import { KnexActionRunStore } from './stores/action-run-store.js';
import { KnexAlertStore } from './stores/alert-store.js';
import { KnexChangeEventStore } from './stores/change-event-store.js';
import { KnexDiagnosisStore } from './stores/diagnosis-store.js';
import { KnexIncidentStore } from './stores/incident-store.js';
import { KnexNotificationQueue } from './stores/notification-queue.js';
import { KnexPostmortemStore } from './stores/postmortem-store.js';
import { KnexTimelineStore } from './stores/timeline-store.js';
import { TrailingWrites } from './stores/trailing-writes.js';

/**
 * The knex implementation of UnitOfWork. `onCommitWithNotifications` fires after a commit that
 * enqueued notifications, so the delivery worker starts at once instead of at its next poll.
 */
export function createKnexUnitOfWork(db: Knex, onCommitWithNotifications: () => void = () => {}): UnitOfWork {
  return {
    async run(work, options = {}) {
      let notified = false;
      const result = await lockedTransaction(db, options.lockKeys ?? [], async (trx) => {
        const trailing = new TrailingWrites(trx);
        const stores: Stores = {
          incidents: new KnexIncidentStore(trx),
          alerts: new KnexAlertStore(trx),
          timeline: new KnexTimelineStore(trx, trailing),
          notifications: new KnexNotificationQueue(trailing, () => {
            notified = true;
          }),
          changes: new KnexChangeEventStore(trx),
          diagnosis: new KnexDiagnosisStore(trx),
          actions: new KnexActionRunStore(trx),
          postmortems: new KnexPostmortemStore(trx),
        };
        const value = await work(stores);
        await trailing.flush();
        return value;
      });
      if (notified) onCommitWithNotifications();
      return result;
    },
    read: {
      incidents: new KnexIncidentStore(db),
      alerts: new KnexAlertStore(db),
      timeline: new KnexTimelineStore(db),
      changes: new KnexChangeEventStore(db),
      diagnosis: new KnexDiagnosisStore(db),
      actions: new KnexActionRunStore(db),
      postmortems: new KnexPostmortemStore(db),
    },
  };
}
