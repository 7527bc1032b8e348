"""Work outside the request path: what runs on its own schedule or waits for commits, with
its own sessions, never inside a request's transaction. Imports repositories, xml and
domain, never services or api (tests/test_code_quality.py checks the layers).

- periodic.py        `Periodic`: runs a job every few seconds, in the service's event loop or
                     in the foreground of `sektorbro worker`
- ack_timers.py      the acknowledgement timers: flag or resend deliveries whose receipt is
                     overdue, one batch per transaction (`ack_timer_job`)
- retransmission.py  `retransmit`: a delivery in a new envelope, back in the receiver's inbox
                     (used by the timers and by the sender's resend in services/transmissions)
- wakeups.py         wakes long polls of the inbox when a delivery for their receiver commits

The push worker and its retry policy come here too (issue 14).
"""
