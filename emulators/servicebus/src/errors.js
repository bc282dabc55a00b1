'use strict';
// Broker errors carry the $management status code and the AMQP condition
// the SDK maps to its error codes.

class BrokerError extends Error {
  constructor(status, condition, message) {
    super(message);
    this.status = status;
    this.condition = condition;
  }
}

const lockLost = () => new BrokerError(410, 'com.microsoft:message-lock-lost',
  'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.');
const sessionLockLost = (id) => new BrokerError(410, 'com.microsoft:session-lock-lost',
  `The session lock has expired on the session ${id}.`);


module.exports = { BrokerError, lockLost, sessionLockLost };
