-- A mail is marked sent once the mail system took it, so a send that is
-- tried again (a batch of mails retried for one that failed, or an attempt
-- whose answer was lost) does not mail the recipients a second time.
ALTER TABLE mails ADD COLUMN sent_at timestamptz;
