-- Indexes for statements that read a whole outbox or sends table to touch one article's or one chat's rows.

-- Deleting an article (`feeds remove --purge`) cascades to its outbox rows; without this index the
-- foreign-key check and the cascade each read the whole outbox, for every article deleted.
CREATE INDEX outbox_by_article ON outbox (article_id);

-- One chat's sends: due_sends and drop_chat_backlog (chat, open states, due time), and the chat_id
-- cascades when a chat is deleted or moves to a supergroup. sends_due has chat_id last, so it cannot seek.
CREATE INDEX sends_by_chat ON sends (chat_id, state, next_attempt_at);

-- Unsent messages in id order, for chats_with_due_sends: it walks them oldest first and stops once
-- it has enough chats, instead of grouping the whole backlog. Holds only open sends, so it stays small.
-- The query names it with INDEXED BY: without ANALYZE the planner prefers sends_due and sorts.
CREATE INDEX sends_open ON sends (id, chat_id, next_attempt_at, state) WHERE state IN ('planned', 'in_flight');
