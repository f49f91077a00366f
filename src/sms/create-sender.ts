/** Picks the SMS provider named by SMS_PROVIDER. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { createConsoleSender } from './console-sender.js';
import type { SmsSender } from './sender.js';
import { createTwilioSenderFromConfig } from './twilio-sender.js';

export function createSmsSender(config: Config, db: Db, log: Logger): SmsSender {
  switch (config.SMS_PROVIDER) {
    case 'twilio':
      return createTwilioSenderFromConfig(config);
    case 'console':
      // Config already refuses this in production; checked again because a fake delivery there loses logins.
      if (config.NODE_ENV === 'production') throw new Error('SMS_PROVIDER=console is refused in production');
      return createConsoleSender(db, log);
  }
}
